import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appDataFolder, resolveDatabasePath } from '../../../src/main/store/paths';

describe('database location', () => {
  it('follows each platform convention for the Basis app data folder', () => {
    expect(appDataFolder('linux', {}, '/home/ada')).toBe(join('/home/ada', '.config', 'Basis'));
    expect(appDataFolder('linux', { XDG_CONFIG_HOME: '/xdg' }, '/home/ada')).toBe(
      join('/xdg', 'Basis'),
    );
    expect(appDataFolder('darwin', {}, '/Users/ada')).toBe(
      join('/Users/ada', 'Library', 'Application Support', 'Basis'),
    );
    expect(
      appDataFolder('win32', { APPDATA: 'C:\\Users\\ada\\AppData\\Roaming' }, 'C:\\Users\\ada'),
    ).toBe(join('C:\\Users\\ada\\AppData\\Roaming', 'Basis'));
  });

  it('prefers --db, then BASIS_DB, then the app data folder', () => {
    expect(resolveDatabasePath('/tmp/a.sqlite', { BASIS_DB: '/tmp/b.sqlite' })).toBe(
      '/tmp/a.sqlite',
    );
    expect(resolveDatabasePath(undefined, { BASIS_DB: '/tmp/b.sqlite' })).toBe('/tmp/b.sqlite');
    expect(resolveDatabasePath(undefined, { XDG_CONFIG_HOME: '/xdg' })).toMatch(/basis\.sqlite$/);
  });
});
