/**
 * The loopback HTTP transport: serves the built renderer to an ordinary browser and answers
 * `POST /api/<method>` (a JSON array of arguments) with an ApiReply. Bound to 127.0.0.1 only;
 * every request must carry the server's random token; cross-origin and rebinding requests are
 * refused. This is how the UI is tested end to end, and how Basis is used over an SSH tunnel.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createReadStream } from 'node:fs';
import { realpath } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import type { ApiReply, BasisApi } from '../../shared/contract';
import { isApiMethodName, parseArguments } from '../../shared/contractArguments';
import { inputError, serializeError, type ErrorKind } from '../../shared/errors';
import { toPlainValue } from './plainValue';
import {
  createToken,
  isLoopbackHost,
  isSameOrigin,
  requestToken,
  SECURITY_HEADERS,
  tokenCookieName,
  tokensEqual,
} from './security';
import { resolveStaticFile } from './staticFiles';
import { createLogger } from '../service/log';

/** Largest request body: arguments are ids, paths and configurations, never data. */
const MAX_BODY_BYTES = 1 << 20;

export interface ServerOptions {
  /** 0 or absent: any free port. */
  port?: number;
  /** The built renderer (out/renderer). */
  rendererFolder: string;
  /** Fixed token, for tests that need one; a random one otherwise. */
  token?: string;
}

export interface RunningServer {
  /** The address to open, carrying the token: http://127.0.0.1:PORT/?token=... */
  url: string;
  /** The address without the token. */
  origin: string;
  token: string;
  port: number;
  close(): Promise<void>;
}

const log = createLogger('serve');

export async function startServer(api: BasisApi, options: ServerOptions): Promise<RunningServer> {
  const rootRealPath = await realpath(options.rendererFolder);
  const token = options.token ?? createToken();
  let port = 0;

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      log.error(`request ${request.method} ${request.url} failed: ${String(error)}`);
      if (!response.headersSent) sendText(response, 500, 'internal error');
      else response.destroy();
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    // Where the request comes from: only this loopback origin.
    if (!isLoopbackHost(request.headers.host)) {
      return sendText(response, 403, 'requests must be addressed to 127.0.0.1 or localhost');
    }
    if (!isSameOrigin(request.headers.origin, request.headers.host)) {
      return sendText(response, 403, 'cross-origin requests are refused');
    }
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');

    // Opening the printed URL once exchanges the token for a cookie and drops it from the bar.
    const offered = url.searchParams.get('token');
    if (offered !== null && request.method === 'GET') {
      if (!tokensEqual(offered, token)) return sendText(response, 401, 'wrong token');
      response.writeHead(303, {
        ...SECURITY_HEADERS,
        // Always the root: the app routes in the hash, and no redirect can leave this origin.
        Location: '/',
        'Set-Cookie': `${tokenCookieName(port)}=${token}; HttpOnly; SameSite=Strict; Path=/`,
      });
      response.end();
      return;
    }

    const given = requestToken(request, port);
    if (given === null || !tokensEqual(given, token)) {
      return sendText(
        response,
        401,
        'missing or wrong token: open the address that "basis serve" printed (it ends in ' +
          '?token=...)',
      );
    }

    if (url.pathname.startsWith('/api/'))
      return handleApi(request, response, url.pathname.slice(5));
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return sendText(response, 405, 'only GET and HEAD are served outside /api/');
    }
    return serveFile(request, response, url.pathname);
  }

  async function handleApi(
    request: IncomingMessage,
    response: ServerResponse,
    name: string,
  ): Promise<void> {
    if (request.method !== 'POST') {
      return sendReply(response, 405, failure('input', 'API calls must use POST'));
    }
    if (!isApiMethodName(name)) {
      return sendReply(response, 404, failure('not-found', `unknown API method "${name}"`));
    }
    if (!/^application\/json\b/i.test(request.headers['content-type'] ?? '')) {
      return sendReply(response, 415, failure('input', 'API calls must send application/json'));
    }

    let args: unknown[];
    try {
      args = parseArguments(name, JSON.parse(await readBody(request)) as unknown);
    } catch (error) {
      const reply = error instanceof SyntaxError ? failure('input', 'body is not JSON') : null;
      return sendReply(response, 400, reply ?? { ok: false, error: serializeError(error) });
    }

    try {
      const call = api[name] as (...values: unknown[]) => Promise<unknown>;
      const value = await call.apply(api, args);
      return sendReply(response, 200, { ok: true, value: toPlainValue(value) });
    } catch (error) {
      const serialized = serializeError(error);
      if (serialized.kind === 'bug') log.error(`${name} failed: ${serialized.message}`);
      return sendReply(response, statusOf(serialized.kind), { ok: false, error: serialized });
    }
  }

  async function serveFile(
    request: IncomingMessage,
    response: ServerResponse,
    pathname: string,
  ): Promise<void> {
    const file = await resolveStaticFile(rootRealPath, pathname);
    if (file === null) return sendText(response, 404, 'not found');
    response.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': file.mimeType,
      'Content-Length': String(file.bytes),
    });
    if (request.method === 'HEAD') {
      response.end();
      return;
    }
    createReadStream(file.path).pipe(response);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;
  log.info(`listening on ${origin}, serving ${rootRealPath}`);

  return {
    url: `${origin}/?token=${token}`,
    origin,
    token,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function failure(kind: ErrorKind, message: string): ApiReply<never> {
  return { ok: false, error: { kind, message } };
}

function statusOf(kind: ErrorKind): number {
  switch (kind) {
    case 'input':
      return 400;
    case 'not-found':
      return 404;
    case 'cancelled':
      return 409;
    case 'io':
    case 'bug':
      return 500;
  }
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    request.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > MAX_BODY_BYTES) {
        // Drain the rest unread, so that the reply reaches the client before the close.
        request.removeAllListeners('data');
        request.resume();
        reject(inputError(`request body is larger than ${MAX_BODY_BYTES} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function sendReply(response: ServerResponse, status: number, reply: ApiReply<unknown>): void {
  const body = JSON.stringify(reply);
  response.writeHead(status, {
    ...SECURITY_HEADERS,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
  });
  response.end(body);
}

function sendText(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, {
    ...SECURITY_HEADERS,
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(text)),
  });
  response.end(text);
}
