/**
 * Values leaving the service for a transport are made plain: typed arrays become arrays, so
 * that the renderer sees exactly the contract's types whichever transport carried them
 * (JSON would otherwise turn a Float32Array into an object keyed by index).
 */
export function toPlainValue(value: unknown): unknown {
  if (ArrayBuffer.isView(value)) {
    return value instanceof DataView ? [] : Array.from(value as unknown as ArrayLike<number>);
  }
  if (Array.isArray(value)) return value.map(toPlainValue);
  if (typeof value === 'object' && value !== null) {
    const plain: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(value)) plain[key] = toPlainValue(field);
    return plain;
  }
  return value;
}
