/**
 * The Electron window, checked without Electron (its binary is not installed for tests): the
 * window options are plain data; the lockdown of every page (navigation, redirects,
 * window.open, webviews, permission requests and checks) is run against a recording
 * stand-in for Electron's `app` and `session`, and each handler it installed is then called
 * the way Electron would. The main process must build every window from those options and
 * install the lockdown before it opens one.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { ROOT } from '../integration/cliHarness';

type Listener = (...args: unknown[]) => unknown;

/** What lockDownContents installs, recorded by the stand-in. */
const installed = {
  appListeners: new Map<string, Listener>(),
  permissionRequest: null as Listener | null,
  permissionCheck: null as Listener | null,
};

vi.mock('electron', () => ({
  app: { on: (name: string, listener: Listener) => installed.appListeners.set(name, listener) },
  session: {
    defaultSession: {
      setPermissionRequestHandler: (handler: Listener) => (installed.permissionRequest = handler),
      setPermissionCheckHandler: (handler: Listener) => (installed.permissionCheck = handler),
    },
  },
  BrowserWindow: class {},
  dialog: {},
  Menu: {},
  shell: {},
}));

/** A page's webContents as lockDownContents sees it, remembering its handlers. */
class RecordingContents {
  readonly listeners = new Map<string, Listener>();
  openHandler: Listener | null = null;
  on(name: string, listener: Listener): this {
    this.listeners.set(name, listener);
    return this;
  }
  setWindowOpenHandler(handler: Listener): void {
    this.openHandler = handler;
  }
}

/** Sends `name` to the page's listener; returns whether it prevented the default. */
function emit(contents: RecordingContents, name: string, ...args: unknown[]): boolean {
  let prevented = false;
  const event = { preventDefault: () => (prevented = true) };
  const listener = contents.listeners.get(name);
  expect(listener, `a ${name} listener`).toBeDefined();
  listener!(event, ...args);
  return prevented;
}

const APP_URL = 'file:///app/out/renderer/index.html';
let contents: RecordingContents;

beforeAll(async () => {
  const { lockDownContents } = await import('../../src/main/electron/shell');
  const { isAppUrl } = await import('../../src/main/electron/windowOptions');
  lockDownContents((url) => isAppUrl(url, APP_URL, undefined));
  contents = new RecordingContents();
  installed.appListeners.get('web-contents-created')!({}, contents);
});

describe('every page the app creates', () => {
  const foreign = [
    'https://evil.example/',
    'http://127.0.0.1:8080/',
    'file:///etc/passwd',
    'file:///app/out/renderer/index.html.evil',
    'file:///app/out/renderer/other.html',
    'javascript:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    'about:blank',
  ];

  it('may not navigate or be redirected away from the app page', () => {
    for (const url of foreign) {
      expect(emit(contents, 'will-navigate', url), url).toBe(true);
      expect(emit(contents, 'will-redirect', url), url).toBe(true);
    }
    expect(emit(contents, 'will-navigate', APP_URL)).toBe(false);
    expect(emit(contents, 'will-navigate', `${APP_URL}#/runs`)).toBe(false);
  });

  it('may not open windows, not even of the app page', () => {
    for (const url of [...foreign, APP_URL]) {
      expect(contents.openHandler!({ url, disposition: 'new-window' }), url).toEqual({
        action: 'deny',
      });
    }
  });

  it('may not attach webviews', () => {
    expect(emit(contents, 'will-attach-webview', {}, {})).toBe(true);
  });

  it('is refused every permission, asked or checked', () => {
    for (const permission of [
      'media',
      'geolocation',
      'notifications',
      'clipboard-read',
      'openExternal',
    ]) {
      const answers: boolean[] = [];
      installed.permissionRequest!(contents, permission, (granted: boolean) =>
        answers.push(granted),
      );
      expect(answers, permission).toEqual([false]);
      expect(installed.permissionCheck!(contents, permission, APP_URL, {}), permission).toBe(false);
    }
  });
});

describe('the main window', () => {
  it('is isolated and sandboxed, without Node, with web security on', async () => {
    const { mainWindowOptions } = await import('../../src/main/electron/windowOptions');
    const preferences = mainWindowOptions('/app/out/preload/index.js').webPreferences!;
    expect(preferences).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
    });
    expect(preferences).not.toHaveProperty('enableRemoteModule');
  });

  it('is the only kind of window the main process makes, after the lockdown is installed', () => {
    const main = readFileSync(join(ROOT, 'src/main/index.ts'), 'utf8');
    const windows = [...main.matchAll(/new BrowserWindow\(([^)]*\))?/g)].map((match) => match[0]);
    expect(windows.length).toBeGreaterThan(0);
    for (const construction of windows) expect(construction).toMatch(/mainWindowOptions\(/);
    const lockdown = main.indexOf('lockDownContents(');
    expect(lockdown).toBeGreaterThan(0);
    // No window is created before start() installs the lockdown: createWindow is only called
    // after it in the file's start-up sequence.
    const firstWindow = main.indexOf('createWindow()', main.indexOf('async function start'));
    expect(firstWindow).toBeGreaterThan(lockdown);
  });

  it('exposes only the contract through the preload, never ipcRenderer itself', () => {
    const preload = readFileSync(join(ROOT, 'src/preload/index.ts'), 'utf8');
    const exposed = [...preload.matchAll(/exposeInMainWorld\(\s*'([^']+)',\s*(\w+)\s*\)/g)].map(
      (match) => [match[1], match[2]],
    );
    expect(exposed).toEqual([
      ['basis', 'api'],
      ['basisShell', 'shell'],
    ]);
    // No function hands the page a channel name of its choosing.
    expect(preload).not.toMatch(/ipcRenderer\.(invoke|send|on)\(\s*(name|channelName|args\[)/);
  });
});
