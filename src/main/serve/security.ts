/**
 * The checks every request to the loopback server passes: a secret token (bearer header or
 * cookie), a Host that names the loopback interface (against DNS rebinding), and an Origin,
 * when the browser sends one, equal to that host (against cross-site requests).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { CONTENT_SECURITY_POLICY } from '../../shared/contentSecurityPolicy';

/** 32 random bytes, URL-safe: unguessable, and harmless in a query string. */
export function createToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Cookies are shared across ports of one host, so the name carries the server's port. */
export function tokenCookieName(port: number): string {
  return `basis-token-${port}`;
}

/** Compares in constant time, so the token cannot be guessed byte by byte from timings. */
export function tokensEqual(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function readCookie(header: string | undefined, name: string): string | null {
  if (header === undefined) return null;
  for (const part of header.split(';')) {
    const separator = part.indexOf('=');
    if (separator < 0) continue;
    if (part.slice(0, separator).trim() === name) return part.slice(separator + 1).trim();
  }
  return null;
}

/** The token a request carries: `Authorization: Bearer ...`, else the cookie. */
export function requestToken(request: IncomingMessage, port: number): string | null {
  const authorization = request.headers.authorization;
  if (authorization !== undefined) {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization);
    return match?.[1] ?? null;
  }
  return readCookie(request.headers.cookie, tokenCookieName(port));
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * The Host header must name the loopback interface. Any port is allowed, since an SSH tunnel
 * may forward a different local port to this server; a rebinding attacker's page would carry
 * its own host name instead.
 */
export function isLoopbackHost(host: string | undefined): boolean {
  if (host === undefined) return false;
  const match = /^(\[[0-9a-fA-F:]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(host);
  if (!match) return false;
  return LOOPBACK_HOSTS.has((match[1] ?? '').toLowerCase());
}

/** A request without Origin (same-origin GET, curl) passes; one with it must match the host. */
export function isSameOrigin(origin: string | undefined, host: string | undefined): boolean {
  if (origin === undefined) return true;
  if (host === undefined) return false;
  return origin.toLowerCase() === `http://${host.toLowerCase()}`;
}

/** Headers of every reply. */

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};
