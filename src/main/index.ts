/**
 * The Electron main process: one window over the same service and database as the CLI. It
 * stays thin: the service does the work, src/main/electron wires IPC, menu and dialogs.
 */
import { app, BrowserWindow, ipcMain, session } from 'electron';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildMenu, lockDownContents, registerShellHandlers } from './electron/shell';
import { registerApiHandlers } from './electron/ipc';
import { APP_CONTENT_SECURITY_POLICY, isAppUrl, mainWindowOptions } from './electron/windowOptions';
import { createLogger } from './service/log';
import { createService, type BasisService } from './service/service';
import { resolveDatabasePath } from './store/paths';

const log = createLogger('app');
const rendererIndex = join(__dirname, '../renderer/index.html');
const rendererIndexUrl = pathToFileURL(rendererIndex).href;
const devServerUrl = process.env.ELECTRON_RENDERER_URL;
const isOwnPage = (url: string): boolean => isAppUrl(url, rendererIndexUrl, devServerUrl);

let mainWindow: BrowserWindow | null = null;
let service: BasisService | null = null;

function createWindow(): void {
  const window = new BrowserWindow(mainWindowOptions(join(__dirname, '../preload/index.js')));
  window.once('ready-to-show', () => window.show());
  window.on('closed', () => {
    if (mainWindow === window) mainWindow = null;
  });
  mainWindow = window;
  if (devServerUrl) void window.loadURL(devServerUrl);
  else void window.loadFile(rendererIndex);
}

async function start(): Promise<void> {
  const databasePath = resolveDatabasePath(undefined);
  log.info(`database ${databasePath}`);
  const api = createService({ databasePath });
  service = api;
  const currentWindow = (): BrowserWindow | null => mainWindow;

  lockDownContents(isOwnPage);
  if (!devServerUrl) {
    // The page's meta tag says the same; the header covers every response, not only HTML.
    session.defaultSession.webRequest.onHeadersReceived((details, callback) =>
      callback({
        responseHeaders: {
          ...details.responseHeaders,
          'Content-Security-Policy': [APP_CONTENT_SECURITY_POLICY],
        },
      }),
    );
  }
  registerApiHandlers(ipcMain, api, {
    isTrustedSender: (event) => isOwnPage(event.senderFrame?.url ?? ''),
    afterCall: (method) => {
      if (method === 'openDataset' || method === 'openSample')
        void buildMenu(api, currentWindow, databasePath);
    },
  });
  registerShellHandlers(ipcMain, currentWindow, isOwnPage);
  await buildMenu(api, currentWindow, databasePath);
  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
}

// One instance: a second launch focuses the first instead of opening the database twice.
if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => {
    if (mainWindow?.isMinimized()) mainWindow.restore();
    mainWindow?.focus();
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  app.on('will-quit', (event) => {
    if (!service) return;
    const closing = service;
    service = null;
    event.preventDefault();
    void closing.close().finally(() => app.quit());
  });
  app.whenReady().then(start, (error: unknown) => {
    log.error(`start failed: ${String(error)}`);
    app.exit(1);
  });
}
