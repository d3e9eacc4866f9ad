// The Electron shell cannot run here; its options are plain data and its IPC handler a plain
// function, so both are tested without Electron.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleApiCall } from '../../../src/main/electron/ipc';
import {
  APP_CONTENT_SECURITY_POLICY,
  isAppUrl,
  mainWindowOptions,
} from '../../../src/main/electron/windowOptions';
import { apiChannel } from '../../../src/preload/channels';
import { createService, type BasisService } from '../../../src/main/service/service';
import { API_METHOD_NAMES } from '../../../src/shared/contract';

describe('main window options', () => {
  const options = mainWindowOptions('/app/out/preload/index.js');
  const preferences = options.webPreferences ?? {};

  it('isolates and sandboxes the renderer, without Node', () => {
    expect(preferences.contextIsolation).toBe(true);
    expect(preferences.sandbox).toBe(true);
    expect(preferences.nodeIntegration).toBe(false);
    expect(preferences.nodeIntegrationInWorker).toBe(false);
    expect(preferences.nodeIntegrationInSubFrames).toBe(false);
  });

  it('keeps web security on and webviews, insecure content and drop navigation off', () => {
    expect(preferences.webSecurity).toBe(true);
    expect(preferences.allowRunningInsecureContent).toBe(false);
    expect(preferences.webviewTag).toBe(false);
    expect(preferences.navigateOnDragDrop).toBe(false);
    expect(preferences.experimentalFeatures).toBe(false);
    expect(preferences.preload).toBe('/app/out/preload/index.js');
    expect(preferences.disableBlinkFeatures).toBe('Auxclick');
  });

  it('has a policy that allows no inline or remote scripts', () => {
    const script = APP_CONTENT_SECURITY_POLICY.split('; ').find((part) =>
      part.startsWith('script-src'),
    );
    expect(script).toBe("script-src 'self'");
    expect(APP_CONTENT_SECURITY_POLICY).not.toContain('unsafe-eval');
    expect(APP_CONTENT_SECURITY_POLICY).toContain("object-src 'none'");
    expect(APP_CONTENT_SECURITY_POLICY).not.toMatch(/https?:/);
  });
});

describe('app page recognition', () => {
  const index = 'file:///app/out/renderer/index.html';

  it('trusts the built page and its routes only', () => {
    expect(isAppUrl(index, index, undefined)).toBe(true);
    expect(isAppUrl(`${index}#/features?run=3`, index, undefined)).toBe(true);
    expect(isAppUrl('file:///etc/passwd', index, undefined)).toBe(false);
    expect(isAppUrl('https://example.com/', index, undefined)).toBe(false);
    expect(isAppUrl(`${index}.evil.html`, index, undefined)).toBe(false);
  });

  it('trusts the development server by origin when one is named', () => {
    expect(isAppUrl('http://localhost:5173/#/runs', index, 'http://localhost:5173')).toBe(true);
    expect(isAppUrl('http://localhost:5174/', index, 'http://localhost:5173')).toBe(false);
    expect(isAppUrl('not a url', index, 'http://localhost:5173')).toBe(false);
  });
});

describe('IPC handlers', () => {
  let folder: string;
  let service: BasisService;

  beforeAll(() => {
    folder = mkdtempSync(join(tmpdir(), 'basis-ipc-'));
    service = createService({ databasePath: join(folder, 'basis.sqlite') });
  });
  afterAll(async () => {
    await service.close();
    rmSync(folder, { recursive: true, force: true });
  });

  it('names one distinct channel per contract method', () => {
    const channels = API_METHOD_NAMES.map(apiChannel);
    expect(new Set(channels).size).toBe(API_METHOD_NAMES.length);
    expect(apiChannel('getFeature')).toBe('basis:api:getFeature');
  });

  it('calls the service with parsed arguments and replies with its value', async () => {
    expect(await handleApiCall(service, 'listRuns', [])).toEqual({ ok: true, value: [] });
  });

  it('replies with an input error for bad arguments, before the service sees them', async () => {
    const reply = await handleApiCall(service, 'getFeature', [1, 'all']);
    expect(reply.ok).toBe(false);
    if (reply.ok) return;
    expect(reply.error.kind).toBe('input');
    expect(reply.error.message).toMatch(/getFeature argument 2 \(feature\)/);
  });

  it('keeps the kind of service errors', async () => {
    const reply = await handleApiCall(service, 'getRun', [41]);
    expect(reply).toMatchObject({ ok: false, error: { kind: 'not-found' } });
  });
});
