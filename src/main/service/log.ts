/**
 * Named loggers for the Node side. Lines go to stderr with the module's name; the CLI keeps
 * them quiet unless BASIS_LOG=debug|info, so they never mix with its own output.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

let threshold: LogLevel = parseLevel(process.env.BASIS_LOG) ?? 'warn';
let sink: (line: string) => void = (line) => process.stderr.write(`${line}\n`);

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export function createLogger(name: string): Logger {
  const write = (level: LogLevel, message: string): void => {
    if (ORDER[level] < ORDER[threshold]) return;
    sink(`${new Date().toISOString()} ${level} [${name}] ${message}`);
  };
  return {
    debug: (message) => write('debug', message),
    info: (message) => write('info', message),
    warn: (message) => write('warn', message),
    error: (message) => write('error', message),
  };
}

export function setLogLevel(level: LogLevel): void {
  threshold = level;
}

/** Redirects log lines (the Electron shell may send them to a file). */
export function setLogSink(write: (line: string) => void): void {
  sink = write;
}

function parseLevel(value: string | undefined): LogLevel | undefined {
  return value === 'debug' || value === 'info' || value === 'warn' || value === 'error'
    ? value
    : undefined;
}
