/**
 * Argument schemas of the contract. Every call that crosses a process or network boundary
 * (Electron IPC, the loopback HTTP transport) passes its arguments through `parseArguments`
 * before the service sees them: types, ranges, string lengths, paths and run configurations
 * are checked here, once, and the service trusts what comes out.
 */
import {
  API_METHOD_NAMES,
  type ApiMethodName,
  type ApiReply,
  type BasisApi,
  type OpenOptions,
} from './contract';
import type { ExportFormat, StartRunRequest } from './contract';
import { inputError } from './errors';
import { isMethod, METHODS, type Method } from './methods';
import { parseRunConfig } from './runConfig';
import {
  expectNumber,
  expectObject,
  expectOneOf,
  expectOnlyKeys,
  expectString,
  type Record_,
} from './validate';

/** Longest path accepted: beyond every operating system's limit. */
export const MAX_PATH_LENGTH = 4096;
/** Most rows one reconstruction request may ask for. */
export const MAX_RECONSTRUCTION_ROWS = 1024;
/** Most label lines one preview may ask for. */
export const MAX_LABEL_PREVIEW = 10_000;
/** Largest id or row index: what a SQLite integer and a float64 share exactly. */
const MAX_INDEX = Number.MAX_SAFE_INTEGER;

const EXPORT_FORMATS = [
  'npy',
  'saelens',
  'features-csv',
] as const satisfies readonly ExportFormat[];
const DTYPES = ['f32', 'f16', 'bf16', 'f64'] as const;

type Arguments<M extends ApiMethodName> = Parameters<BasisApi[M]>;

/** One parser per method; a method of BasisApi without one here breaks the build. */
type Schemas = { [M in ApiMethodName]: (args: Reader) => Arguments<M> };

const SCHEMAS: Schemas = {
  openDataset: (args) => [args.path(0, 'path'), args.openOptions(1)],
  listDatasets: () => [],
  previewLabels: (args) => [
    args.id(0, 'datasetId'),
    args.integer(1, 'firstRow', 0, MAX_INDEX),
    args.integer(2, 'count', 1, MAX_LABEL_PREVIEW),
  ],
  openSample: () => [],
  defaultConfig: (args) => [args.id(0, 'datasetId'), args.method(1, 'method')],
  startRun: (args) => [args.startRunRequest(0)],
  cancelRun: (args) => [args.id(0, 'runId')],
  resumeRun: (args) => [args.id(0, 'runId')],
  deleteRun: (args) => [args.id(0, 'runId')],
  listRuns: () => [],
  getRun: (args) => [args.id(0, 'runId')],
  getProgress: (args) => [args.id(0, 'runId')],
  getSteps: (args) => [args.id(0, 'runId')],
  listFeatures: (args) => [args.id(0, 'runId')],
  getFeature: (args) => [args.id(0, 'runId'), args.integer(1, 'feature', 0, MAX_INDEX)],
  getReconstructions: (args) => [args.id(0, 'runId'), args.rowList(1, 'rows')],
  compareRuns: (args) => [args.id(0, 'runA'), args.id(1, 'runB')],
  importDictionary: (args) => [args.path(0, 'path'), args.id(1, 'datasetId')],
  exportRun: (args) => [
    args.id(0, 'runId'),
    args.oneOf(1, 'format', EXPORT_FORMATS),
    args.path(2, 'outPath'),
  ],
};

/** How many arguments each method takes (trailing optional ones may be left out). */
const ARITY: Record<ApiMethodName, number> = {
  openDataset: 2,
  listDatasets: 0,
  previewLabels: 3,
  openSample: 0,
  defaultConfig: 2,
  startRun: 1,
  cancelRun: 1,
  resumeRun: 1,
  deleteRun: 1,
  listRuns: 0,
  getRun: 1,
  getProgress: 1,
  getSteps: 1,
  listFeatures: 1,
  getFeature: 2,
  getReconstructions: 2,
  compareRuns: 2,
  importDictionary: 2,
  exportRun: 3,
};

export function isApiMethodName(value: unknown): value is ApiMethodName {
  return typeof value === 'string' && (API_METHOD_NAMES as readonly string[]).includes(value);
}

/**
 * Checks the arguments of one call. Throws an input error naming the method and the argument
 * at fault; returns the arguments as the service expects them (numbers given as strings
 * become numbers, an omitted OpenOptions becomes {}).
 */
export function parseArguments<M extends ApiMethodName>(method: M, args: unknown): Arguments<M>;
export function parseArguments(method: ApiMethodName, args: unknown): unknown[];
export function parseArguments(method: ApiMethodName, args: unknown): unknown[] {
  if (!isApiMethodName(method)) {
    throw inputError(`unknown API method ${JSON.stringify(method)}`);
  }
  if (!Array.isArray(args)) {
    throw inputError(`${method}: arguments must be an array`);
  }
  const arity = ARITY[method];
  if (args.length > arity) {
    throw inputError(`${method} takes ${arity} argument(s), got ${args.length}`);
  }
  return SCHEMAS[method](new Reader(method, args));
}

/** Reads positional arguments of one call, naming the method and argument in every error. */
class Reader {
  constructor(
    private readonly apiMethod: ApiMethodName,
    private readonly args: readonly unknown[],
  ) {}

  at(position: number): unknown {
    return this.args[position];
  }

  name(position: number, argument: string): string {
    return `${this.apiMethod} argument ${position + 1} (${argument})`;
  }

  integer(position: number, argument: string, min: number, max: number): number {
    return expectNumber(this.at(position), this.name(position, argument), {
      integer: true,
      min,
      max,
    });
  }

  oneOf<T extends string>(position: number, argument: string, choices: readonly T[]): T {
    return expectOneOf(this.at(position), choices, this.name(position, argument));
  }

  /** A database id: a whole number from 1. */
  id(position: number, argument: string): number {
    return this.integer(position, argument, 1, MAX_INDEX);
  }

  method(position: number, argument: string): Method {
    const value = this.at(position);
    if (!isMethod(value)) {
      throw inputError(
        `${this.name(position, argument)} must be one of ${METHODS.join(', ')}, got ` +
          `${JSON.stringify(value) ?? 'nothing'}`,
      );
    }
    return value;
  }

  path(position: number, argument: string): string {
    return parsePath(this.at(position), this.name(position, argument));
  }

  rowList(position: number, argument: string): number[] {
    const what = this.name(position, argument);
    const value = this.at(position);
    if (!Array.isArray(value)) throw inputError(`${what} must be an array of row indices`);
    if (value.length === 0) throw inputError(`${what} must name at least one row`);
    if (value.length > MAX_RECONSTRUCTION_ROWS) {
      throw inputError(`${what} names ${value.length} rows; at most ${MAX_RECONSTRUCTION_ROWS}`);
    }
    return value.map((row, index) =>
      expectNumber(row, `${what}[${index}]`, { integer: true, min: 0, max: MAX_INDEX }),
    );
  }

  openOptions(position: number): OpenOptions {
    const value = this.at(position);
    const what = this.name(position, 'options');
    if (value === undefined) return {};
    return parseOpenOptions(value, what);
  }

  startRunRequest(position: number): StartRunRequest {
    const what = this.name(position, 'request');
    const request = expectObject(this.at(position), what);
    expectOnlyKeys(request, ['datasetId', 'config'], what);
    return {
      datasetId: expectNumber(request.datasetId, `${what}.datasetId`, {
        integer: true,
        min: 1,
        max: MAX_INDEX,
      }),
      config: parsePartialRunConfig(request.config, `${what}.config`),
    };
  }
}

/** A path: a non-empty string without NUL bytes, of bounded length. */
export function parsePath(value: unknown, what: string): string {
  const path = expectString(value, what, MAX_PATH_LENGTH);
  if (path.trim() === '') throw inputError(`${what} must not be empty`);
  if (path.includes('\0')) throw inputError(`${what} must not contain a NUL character`);
  return path;
}

export function parseOpenOptions(value: unknown, what: string): OpenOptions {
  const fields = expectObject(value, what);
  expectOnlyKeys(fields, ['tensor', 'member', 'dtype', 'shape', 'labels', 'imageShape'], what);
  const options: OpenOptions = {};
  if (fields.tensor !== undefined)
    options.tensor = expectString(fields.tensor, `${what}.tensor`, 1024);
  if (fields.member !== undefined)
    options.member = expectString(fields.member, `${what}.member`, 1024);
  if (fields.dtype !== undefined)
    options.dtype = expectOneOf(fields.dtype, DTYPES, `${what}.dtype`);
  if (fields.shape !== undefined) options.shape = parseShape(fields.shape, `${what}.shape`, 1, 8);
  if (fields.labels !== undefined) options.labels = parsePath(fields.labels, `${what}.labels`);
  if (fields.imageShape !== undefined) {
    const [height, width] = parseShape(fields.imageShape, `${what}.imageShape`, 2, 2);
    options.imageShape = [height ?? 1, width ?? 1];
  }
  return options;
}

function parseShape(value: unknown, what: string, minLength: number, maxLength: number): number[] {
  if (!Array.isArray(value) || value.length < minLength || value.length > maxLength) {
    const length = minLength === maxLength ? `${minLength}` : `${minLength} to ${maxLength}`;
    throw inputError(`${what} must be an array of ${length} positive whole numbers`);
  }
  return value.map((extent, index) =>
    expectNumber(extent, `${what}[${index}]`, { integer: true, min: 1, max: 2 ** 40 }),
  );
}

/**
 * Checks a partial run configuration with parseRunConfig's own field checks. The relations
 * that depend on the dataset's width (ICA features against dimensions) are the service's to
 * check; here the width is chosen so that only the fields themselves are judged.
 */
export function parsePartialRunConfig(value: unknown, what: string): StartRunRequest['config'] {
  const fields = expectObject(value, what);
  if (!isMethod(fields.method)) {
    throw inputError(
      `${what}.method must be one of ${METHODS.join(', ')}, got ` +
        `${JSON.stringify(fields.method) ?? 'nothing'}`,
    );
  }
  const parsed = parseRunConfig(fields, neutralDimensions(fields)) as unknown as Record_;
  const config: Record_ = { method: fields.method };
  for (const key of Object.keys(fields)) {
    if (fields[key] !== undefined) config[key] = parsed[key];
  }
  return config as StartRunRequest['config'];
}

/** A dataset width under which parseRunConfig's width-dependent relations cannot fail. */
function neutralDimensions(fields: Record_): number {
  const features = Number(fields.features);
  const k = Number(fields.k);
  if (Number.isInteger(features) && features >= 1) {
    // ica needs features >= width; ica-complete needs features == width.
    return fields.method === 'ica-complete' ? features : 1;
  }
  // Default features grow with the width (4 x for SAEs): make room for any k.
  return Number.isInteger(k) && k >= 1 ? Math.min(k, 1 << 18) : 1;
}

/**
 * The contract as a bridge exposes it (Electron's preload): the same functions, each replying
 * with an ApiReply instead of throwing, because an error crossing contextBridge keeps only its
 * message and would lose its kind. The renderer unwraps the replies back into a BasisApi.
 */
export type BridgedApi = {
  [M in ApiMethodName]: (
    ...args: Parameters<BasisApi[M]>
  ) => Promise<ApiReply<Awaited<ReturnType<BasisApi[M]>>>>;
};
