/**
 * Serving the built renderer folder, and nothing outside it: the URL path is decoded once,
 * `..` segments and NUL bytes are refused, and the real path (symbolic links followed) must
 * still lie inside the folder's real path.
 */
import { realpath, stat } from 'node:fs/promises';
import { extname, join, sep } from 'node:path';

const MIME_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

export function mimeType(path: string): string {
  return MIME_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

export interface StaticFile {
  path: string;
  bytes: number;
  mimeType: string;
}

/**
 * Finds the file a URL path names inside `rootRealPath` (already resolved with realpath), or
 * null when there is none or the path tries to leave the folder.
 */
export async function resolveStaticFile(
  rootRealPath: string,
  urlPath: string,
): Promise<StaticFile | null> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const segments = decoded.split('/').filter((segment) => segment !== '');
  if (segments.some((segment) => segment === '..' || segment === '.')) return null;
  const relative = segments.length === 0 ? 'index.html' : segments.join(sep);

  let real: string;
  try {
    real = await realpath(join(rootRealPath, relative));
  } catch {
    return null;
  }
  if (!real.startsWith(rootRealPath + sep)) return null;
  const info = await stat(real);
  if (!info.isFile()) return null;
  return { path: real, bytes: info.size, mimeType: mimeType(real) };
}
