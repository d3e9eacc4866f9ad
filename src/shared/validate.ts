/**
 * Small parsers for untrusted values (CLI flags, IPC and HTTP arguments, JSON files). Each
 * either returns a typed value or throws an input error that names the field.
 */
import { inputError } from './errors';

export type Record_ = Record<string, unknown>;

export function expectObject(value: unknown, what: string): Record_ {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw inputError(`${what} must be an object, got ${describe(value)}`);
  }
  return value as Record_;
}

export interface NumberRule {
  min?: number;
  max?: number;
  integer?: boolean;
  /** Minimum is exclusive. */
  positive?: boolean;
}

export function expectNumber(value: unknown, what: string, rule: NumberRule = {}): number {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isFinite(number)) {
    throw inputError(`${what} must be a finite number, got ${describe(value)}`);
  }
  if (rule.integer && !Number.isInteger(number)) {
    throw inputError(`${what} must be a whole number, got ${number}`);
  }
  if (rule.positive && number <= 0) {
    throw inputError(`${what} must be greater than 0, got ${number}`);
  }
  if (rule.min !== undefined && number < rule.min) {
    throw inputError(`${what} must be at least ${rule.min}, got ${number}`);
  }
  if (rule.max !== undefined && number > rule.max) {
    throw inputError(`${what} must be at most ${rule.max}, got ${number}`);
  }
  return number;
}

export function expectString(value: unknown, what: string, maxLength = 4096): string {
  if (typeof value !== 'string') {
    throw inputError(`${what} must be a string, got ${describe(value)}`);
  }
  if (value.length > maxLength) {
    throw inputError(`${what} is longer than ${maxLength} characters`);
  }
  return value;
}

export function expectBoolean(value: unknown, what: string): boolean {
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw inputError(`${what} must be true or false, got ${describe(value)}`);
}

export function expectOneOf<T extends string>(
  value: unknown,
  choices: readonly T[],
  what: string,
): T {
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
    throw inputError(`${what} must be one of ${choices.join(', ')}, got ${describe(value)}`);
  }
  return value as T;
}

/** Rejects keys the schema does not know, so typos do not pass silently. */
export function expectOnlyKeys(object: Record_, allowed: readonly string[], what: string): void {
  for (const key of Object.keys(object)) {
    if (!allowed.includes(key)) {
      throw inputError(`${what} has an unknown field "${key}" (known: ${allowed.join(', ')})`);
    }
  }
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
