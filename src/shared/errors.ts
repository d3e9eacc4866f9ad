/**
 * Errors by meaning. A bug is an assertion; an expected failure is a BasisError whose message
 * says what is wrong, where, and what to do; cancellation is its own kind, never shown as a
 * failure.
 */

export type ErrorKind =
  /** The user's input (a file, a flag, an argument) is wrong; the message says how to fix it. */
  | 'input'
  /** A named thing (run, dataset, feature) does not exist. */
  | 'not-found'
  /** The operating system refused (permission, full disk, missing folder). */
  | 'io'
  /** The user or the system cancelled the work. */
  | 'cancelled'
  /** A broken invariant inside Basis. */
  | 'bug';

export class BasisError extends Error {
  readonly kind: ErrorKind;

  constructor(kind: ErrorKind, message: string) {
    super(message);
    this.name = 'BasisError';
    this.kind = kind;
  }
}

export class CancelledError extends BasisError {
  constructor(message = 'cancelled') {
    super('cancelled', message);
    this.name = 'CancelledError';
  }
}

export function inputError(message: string): BasisError {
  return new BasisError('input', message);
}

export function notFound(message: string): BasisError {
  return new BasisError('not-found', message);
}

export function isBasisError(value: unknown): value is BasisError {
  return value instanceof BasisError;
}

export function isCancelled(value: unknown): boolean {
  return value instanceof BasisError && value.kind === 'cancelled';
}

/** Asserts an invariant; the message is built only when it fails. */
export function assert(condition: unknown, message: () => string): asserts condition {
  if (!condition) {
    throw new BasisError('bug', `internal error: ${message()}`);
  }
}

/** Ends an exhaustive switch over a union: adding a member breaks the build here. */
export function assertNever(value: never, what: string): never {
  throw new BasisError('bug', `internal error: unexpected ${what}: ${JSON.stringify(value)}`);
}

/** The form errors take across process and network boundaries. */
export interface SerializedError {
  kind: ErrorKind;
  message: string;
}

export function serializeError(error: unknown): SerializedError {
  if (error instanceof BasisError) {
    return { kind: error.kind, message: error.message };
  }
  const nodeCode = (error as { code?: unknown } | null)?.code;
  if (typeof nodeCode === 'string' && /^E[A-Z]+$/.test(nodeCode)) {
    return { kind: 'io', message: error instanceof Error ? error.message : String(error) };
  }
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return { kind: 'bug', message };
}

export function deserializeError(error: SerializedError): BasisError {
  return error.kind === 'cancelled'
    ? new CancelledError(error.message)
    : new BasisError(error.kind, error.message);
}
