import { describe, expect, it } from 'vitest';
import { toPlainValue } from '../../../src/main/serve/plainValue';
import {
  createToken,
  isLoopbackHost,
  isSameOrigin,
  readCookie,
  tokensEqual,
} from '../../../src/main/serve/security';
import { mimeType } from '../../../src/main/serve/staticFiles';

describe('loopback request checks', () => {
  it('accepts the loopback names with any port, and nothing else', () => {
    for (const host of ['127.0.0.1:7370', 'localhost:9000', 'LOCALHOST', '[::1]:80', '127.0.0.1']) {
      expect(isLoopbackHost(host), host).toBe(true);
    }
    for (const host of [
      undefined,
      '',
      'evil.example:7370',
      '127.0.0.1.evil.example',
      'localhost.evil.example:80',
      '10.0.0.1:7370',
      '[::2]:80',
      'localhost:80:80',
    ]) {
      expect(isLoopbackHost(host), String(host)).toBe(false);
    }
  });

  it('allows a missing Origin and an Origin equal to the host, refuses the rest', () => {
    expect(isSameOrigin(undefined, '127.0.0.1:1')).toBe(true);
    expect(isSameOrigin('http://127.0.0.1:1', '127.0.0.1:1')).toBe(true);
    expect(isSameOrigin('https://127.0.0.1:1', '127.0.0.1:1')).toBe(false);
    expect(isSameOrigin('http://127.0.0.1:2', '127.0.0.1:1')).toBe(false);
    expect(isSameOrigin('null', '127.0.0.1:1')).toBe(false);
    expect(isSameOrigin('http://127.0.0.1:1', undefined)).toBe(false);
  });

  it('makes distinct 256-bit tokens and compares them exactly', () => {
    const a = createToken();
    const b = createToken();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    expect(tokensEqual(a, a)).toBe(true);
    expect(tokensEqual(a, b)).toBe(false);
    expect(tokensEqual(a, a.slice(1))).toBe(false);
    expect(tokensEqual('', a)).toBe(false);
  });

  it('reads one cookie among several', () => {
    expect(readCookie('a=1; basis-token-80=xyz; b=2', 'basis-token-80')).toBe('xyz');
    expect(readCookie('basis-token-801=xyz', 'basis-token-80')).toBeNull();
    expect(readCookie(undefined, 'x')).toBeNull();
    expect(readCookie('novalue; x=', 'x')).toBe('');
  });
});

describe('replies made plain', () => {
  it('turns typed arrays into arrays, nested in objects and arrays', () => {
    const value = {
      atom: new Float32Array([0.5, -1]),
      rows: [{ codes: new Int32Array([3]) }],
      name: 'x',
      n: null,
    };
    expect(toPlainValue(value)).toEqual({
      atom: [0.5, -1],
      rows: [{ codes: [3] }],
      name: 'x',
      n: null,
    });
    expect(JSON.stringify(toPlainValue(new Float64Array([NaN])))).toBe('[null]');
  });
});

describe('MIME types', () => {
  it('names the renderer files by extension, and unknown ones as bytes', () => {
    expect(mimeType('/a/index.HTML')).toBe('text/html; charset=utf-8');
    expect(mimeType('/a/app.js')).toBe('text/javascript; charset=utf-8');
    expect(mimeType('/a/x.wasm')).toBe('application/wasm');
    expect(mimeType('/a/README')).toBe('application/octet-stream');
  });
});
