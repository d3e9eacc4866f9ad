/**
 * How the renderer reaches the service. Under Electron the preload exposes `window.basis`
 * (one function per contract method); in a browser served by `basis serve` an HTTP client
 * posts to /api/<method>. Both are the same BasisApi, built over API_METHOD_NAMES, so a new
 * contract method appears in both without further code.
 */
import {
  API_METHOD_NAMES,
  type ApiMethodName,
  type ApiReply,
  type BasisApi,
} from '../../../shared/contract';
import type { BridgedApi } from '../../../shared/contractArguments';
import { BasisError, deserializeError } from '../../../shared/errors';

/** Calls one method by name with its arguments. */
export type MethodCaller = (method: ApiMethodName, args: unknown[]) => Promise<unknown>;

/** Builds a BasisApi whose every method forwards to `call`. */
export function createApiProxy(call: MethodCaller): BasisApi {
  const api: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
  for (const method of API_METHOD_NAMES) {
    api[method] = (...args: unknown[]) => call(method, args);
  }
  return api as unknown as BasisApi;
}

/**
 * The HTTP client of `basis serve`. The token travels as a cookie set when the printed
 * address was opened, or as a bearer header when `token` is given (tests, scripts).
 */
export function createHttpApi(baseUrl = '', token?: string): BasisApi {
  return createApiProxy(async (method, args) => {
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (token !== undefined) headers.Authorization = `Bearer ${token}`;
    let response: Response;
    try {
      response = await fetch(`${baseUrl}/api/${method}`, {
        method: 'POST',
        headers,
        body: JSON.stringify(args),
        credentials: 'same-origin',
      });
    } catch (error) {
      throw new BasisError(
        'io',
        `the Basis server did not answer (${String(error)}): is "basis serve" still running?`,
      );
    }
    const text = await response.text();
    let reply: ApiReply<unknown>;
    try {
      reply = JSON.parse(text) as ApiReply<unknown>;
    } catch {
      throw new BasisError(
        'io',
        `the Basis server answered ${response.status}: ${text.slice(0, 200)}`,
      );
    }
    return unwrap(reply);
  });
}

/** The desktop shell's extras: native dialogs, menu commands and dropped files. */
export interface ShellCommand {
  type: 'open-path' | 'navigate';
  path?: string;
  view?: string;
  datasetId?: number;
}

export interface BasisShell {
  chooseOpenPath(kind: 'activations' | 'labels' | 'dictionary'): Promise<string | null>;
  chooseSavePath(defaultName: string): Promise<string | null>;
  pathForFile(file: File): string;
  onCommand(listener: (command: ShellCommand) => void): () => void;
}

declare global {
  interface Window {
    basis?: BridgedApi;
    basisShell?: BasisShell;
  }
}

/** Turns the preload's replying functions back into a BasisApi that throws BasisErrors. */
export function createBridgeApi(bridge: BridgedApi): BasisApi {
  return createApiProxy(async (method, args) => {
    const call = bridge[method] as (...values: unknown[]) => Promise<ApiReply<unknown>>;
    return unwrap(await call(...args));
  });
}

function unwrap(reply: ApiReply<unknown>): unknown {
  if (!reply.ok) throw deserializeError(reply.error);
  return reply.value;
}

export function createApi(): BasisApi {
  return window.basis ? createBridgeApi(window.basis) : createHttpApi();
}

export function desktopShell(): BasisShell | null {
  return window.basisShell ?? null;
}
