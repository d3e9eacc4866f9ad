/**
 * The desktop shell around the window: application menu (File with Open activations…,
 * Recent and Export…; Edit; View; Help), native open and save dialogs, and the refusal of
 * everything a workbench page never needs (navigation, new windows, permissions, webviews).
 */
import {
  app,
  BrowserWindow,
  dialog,
  Menu,
  session,
  shell,
  type IpcMain,
  type MenuItemConstructorOptions,
  type WebContents,
} from 'electron';
import type { BasisApi } from '../../shared/contract';
import { expectOneOf, expectString } from '../../shared/validate';
import { OPEN_KINDS, SHELL_CHANNELS, type OpenKind } from '../../preload/channels';
import { createLogger } from '../service/log';

const log = createLogger('shell');
const RECENT_ITEMS = 8;

const OPEN_FILTERS: Record<OpenKind, Electron.FileFilter[]> = {
  activations: [
    { name: 'Activations', extensions: ['npy', 'npz', 'safetensors', 'arrow', 'bin'] },
    { name: 'All files', extensions: ['*'] },
  ],
  labels: [
    { name: 'Labels', extensions: ['tsv', 'txt', 'jsonl'] },
    { name: 'All files', extensions: ['*'] },
  ],
  dictionary: [
    { name: 'Dictionaries', extensions: ['safetensors', 'pt', 'npz'] },
    { name: 'All files', extensions: ['*'] },
  ],
};

/** Denies navigation, new windows, webviews and every permission request, in every page. */
export function lockDownContents(isAppUrl: (url: string) => boolean): void {
  app.on('web-contents-created', (_event, contents: WebContents) => {
    contents.on('will-navigate', (event, url) => {
      if (!isAppUrl(url)) {
        event.preventDefault();
        log.warn(`navigation to ${url} refused`);
      }
    });
    contents.on('will-redirect', (event, url) => {
      if (!isAppUrl(url)) event.preventDefault();
    });
    contents.setWindowOpenHandler(({ url }) => {
      log.warn(`window.open(${url}) refused`);
      return { action: 'deny' };
    });
    contents.on('will-attach-webview', (event) => event.preventDefault());
  });
  session.defaultSession.setPermissionRequestHandler((_contents, permission, callback) => {
    log.warn(`permission ${permission} refused`);
    callback(false);
  });
  session.defaultSession.setPermissionCheckHandler(() => false);
}

export function sendCommand(
  window: BrowserWindow | null,
  command: { type: 'open-path' | 'navigate'; path?: string; view?: string; datasetId?: number },
): void {
  window?.webContents.send(SHELL_CHANNELS.command, command);
}

async function chooseOpenPath(
  window: BrowserWindow | null,
  kind: OpenKind,
): Promise<string | null> {
  const options: Electron.OpenDialogOptions = {
    title:
      kind === 'activations'
        ? 'Open activations'
        : kind === 'labels'
          ? 'Choose a label file'
          : 'Import a dictionary',
    properties: kind === 'dictionary' ? ['openFile', 'openDirectory'] : ['openFile'],
    filters: OPEN_FILTERS[kind],
  };
  const result = window
    ? await dialog.showOpenDialog(window, options)
    : await dialog.showOpenDialog(options);
  return result.canceled ? null : (result.filePaths[0] ?? null);
}

async function chooseSavePath(
  window: BrowserWindow | null,
  defaultPath: string,
): Promise<string | null> {
  const options: Electron.SaveDialogOptions = {
    title: 'Export to',
    defaultPath,
    properties: ['createDirectory', 'showOverwriteConfirmation'],
  };
  const result = window
    ? await dialog.showSaveDialog(window, options)
    : await dialog.showSaveDialog(options);
  return result.canceled ? null : (result.filePath ?? null);
}

export function registerShellHandlers(
  ipcMain: IpcMain,
  currentWindow: () => BrowserWindow | null,
  isTrusted: (url: string) => boolean,
): void {
  ipcMain.handle(SHELL_CHANNELS.chooseOpenPath, (event, kind: unknown) => {
    if (!isTrusted(event.senderFrame?.url ?? '')) return null;
    return chooseOpenPath(currentWindow(), expectOneOf(kind, OPEN_KINDS, 'dialog kind'));
  });
  ipcMain.handle(SHELL_CHANNELS.chooseSavePath, (event, defaultPath: unknown) => {
    if (!isTrusted(event.senderFrame?.url ?? '')) return null;
    return chooseSavePath(currentWindow(), expectString(defaultPath, 'default path'));
  });
}

/** Builds the application menu; Recent lists the datasets opened last. */
export async function buildMenu(
  api: BasisApi,
  currentWindow: () => BrowserWindow | null,
  databasePath: string,
): Promise<void> {
  let recent: MenuItemConstructorOptions[] = [];
  try {
    const datasets = await api.listDatasets();
    recent = datasets
      .slice(-RECENT_ITEMS)
      .reverse()
      .map((dataset) => ({
        label: dataset.path,
        click: () =>
          sendCommand(currentWindow(), {
            type: 'navigate',
            view: 'datasets',
            datasetId: dataset.id,
          }),
      }));
  } catch (error) {
    log.warn(`recent datasets unavailable: ${(error as Error).message}`);
  }
  const isMac = process.platform === 'darwin';
  const template: MenuItemConstructorOptions[] = [
    ...(isMac ? [{ role: 'appMenu' as const }] : []),
    {
      label: 'File',
      submenu: [
        {
          label: 'Open activations…',
          accelerator: 'CmdOrCtrl+O',
          click: async () => {
            const path = await chooseOpenPath(currentWindow(), 'activations');
            if (path) sendCommand(currentWindow(), { type: 'open-path', path });
          },
        },
        {
          label: 'Recent',
          submenu: recent.length > 0 ? recent : [{ label: 'Nothing opened yet', enabled: false }],
        },
        { type: 'separator' },
        {
          label: 'Export…',
          accelerator: 'CmdOrCtrl+E',
          click: () => sendCommand(currentWindow(), { type: 'navigate', view: 'export' }),
        },
        { type: 'separator' },
        isMac ? { role: 'close' } : { role: 'quit' },
      ],
    },
    { role: 'editMenu' },
    {
      label: 'View',
      submenu: [
        {
          label: 'Datasets',
          accelerator: 'CmdOrCtrl+1',
          click: () => sendCommand(currentWindow(), { type: 'navigate', view: 'datasets' }),
        },
        {
          label: 'Runs',
          accelerator: 'CmdOrCtrl+2',
          click: () => sendCommand(currentWindow(), { type: 'navigate', view: 'runs' }),
        },
        {
          label: 'Features',
          accelerator: 'CmdOrCtrl+3',
          click: () => sendCommand(currentWindow(), { type: 'navigate', view: 'features' }),
        },
        { type: 'separator' },
        { role: 'reload' },
        { role: 'toggleDevTools' },
        { type: 'separator' },
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { type: 'separator' },
        { role: 'togglefullscreen' },
      ],
    },
    {
      role: 'help',
      submenu: [
        {
          label: 'About Basis',
          click: () =>
            void dialog.showMessageBox({
              type: 'info',
              title: 'About Basis',
              message: `Basis ${app.getVersion()}`,
              detail:
                'Overcomplete ICA and sparse autoencoders on neural-network activations, side ' +
                'by side.',
            }),
        },
        { label: 'Show the database file', click: () => shell.showItemInFolder(databasePath) },
      ],
    },
  ];
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}
