/**
 * Where the database lives. The desktop app and the CLI share one file in the app's data
 * folder, computed here without Electron so that both agree on it.
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export const DATABASE_FILE_NAME = 'basis.sqlite';
const APP_FOLDER_NAME = 'Basis';

/** The app's data folder: what Electron's app.getPath('userData') gives for an app named Basis. */
export function appDataFolder(
  platform: NodeJS.Platform = process.platform,
  environment: NodeJS.ProcessEnv = process.env,
  home: string = homedir(),
): string {
  switch (platform) {
    case 'darwin':
      return join(home, 'Library', 'Application Support', APP_FOLDER_NAME);
    case 'win32':
      return join(environment.APPDATA ?? join(home, 'AppData', 'Roaming'), APP_FOLDER_NAME);
    default:
      return join(environment.XDG_CONFIG_HOME || join(home, '.config'), APP_FOLDER_NAME);
  }
}

/** The database path: an explicit choice (--db), then BASIS_DB, then the app's data folder. */
export function resolveDatabasePath(
  explicit: string | undefined,
  environment: NodeJS.ProcessEnv = process.env,
): string {
  if (explicit !== undefined && explicit !== '') return resolve(explicit);
  if (environment.BASIS_DB) return resolve(environment.BASIS_DB);
  return join(appDataFolder(process.platform, environment), DATABASE_FILE_NAME);
}
