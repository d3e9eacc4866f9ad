/**
 * The preload: exposes the contract to the renderer as `window.basis`, one function per
 * method of API_METHOD_NAMES (each replying with an ApiReply), and the desktop shell's
 * extras as `window.basisShell` (native dialogs, dropped files' paths, menu commands).
 * ipcRenderer itself never reaches the page.
 */
import { contextBridge, ipcRenderer, webUtils } from 'electron';
import { API_METHOD_NAMES, type ApiReply } from '../shared/contract';
import { apiChannel, SHELL_CHANNELS, type OpenKind } from './channels';

const api: Record<string, (...args: unknown[]) => Promise<ApiReply<unknown>>> = {};
for (const method of API_METHOD_NAMES) {
  const channel = apiChannel(method);
  api[method] = (...args: unknown[]) =>
    ipcRenderer.invoke(channel, ...args) as Promise<ApiReply<unknown>>;
}

interface ShellCommand {
  type: 'open-path' | 'navigate';
  path?: string;
  view?: string;
  datasetId?: number;
}

const shell = {
  chooseOpenPath: (kind: OpenKind): Promise<string | null> =>
    ipcRenderer.invoke(SHELL_CHANNELS.chooseOpenPath, kind) as Promise<string | null>,
  chooseSavePath: (defaultPath: string): Promise<string | null> =>
    ipcRenderer.invoke(SHELL_CHANNELS.chooseSavePath, defaultPath) as Promise<string | null>,
  /** The path of a file dropped on the page (File.path is gone from recent Electron). */
  pathForFile: (file: File): string => webUtils.getPathForFile(file),
  onCommand: (listener: (command: ShellCommand) => void): (() => void) => {
    const forward = (_event: unknown, command: ShellCommand): void => listener(command);
    ipcRenderer.on(SHELL_CHANNELS.command, forward);
    return () => {
      ipcRenderer.removeListener(SHELL_CHANNELS.command, forward);
    };
  },
};

contextBridge.exposeInMainWorld('basis', api);
contextBridge.exposeInMainWorld('basisShell', shell);
