/**
 * The main window's options and the app's security settings, as plain data (no Electron
 * import at run time) so that tests can check them: an isolated, sandboxed renderer without
 * Node, with web security on, a strict content security policy, and nothing but the app's
 * own page allowed to load.
 */
import type { BrowserWindowConstructorOptions } from 'electron';
import { CONTENT_SECURITY_POLICY } from '../../shared/contentSecurityPolicy';

export function mainWindowOptions(preloadPath: string): BrowserWindowConstructorOptions {
  return {
    width: 1380,
    height: 880,
    minWidth: 900,
    minHeight: 600,
    title: 'Basis',
    backgroundColor: '#f6f7f9',
    show: false,
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
      // Middle-click opens links in new windows in some versions: nothing here needs it.
      disableBlinkFeatures: 'Auxclick',
      devTools: true,
    },
  };
}

/** The policy of the app's page (one policy for both shells). */
export const APP_CONTENT_SECURITY_POLICY = CONTENT_SECURITY_POLICY;

/**
 * Whether an IPC message or a navigation comes from the app's own page: the built renderer
 * loaded from disk, or the development server electron-vite names in ELECTRON_RENDERER_URL.
 */
export function isAppUrl(
  url: string,
  rendererIndexUrl: string,
  devServerUrl: string | undefined,
): boolean {
  if (url === rendererIndexUrl || url.startsWith(`${rendererIndexUrl}#`)) return true;
  if (devServerUrl === undefined || devServerUrl === '') return false;
  try {
    return new URL(url).origin === new URL(devServerUrl).origin;
  } catch {
    return false;
  }
}
