/**
 * IPC channel names shared by the preload and the main process: one per contract method
 * (built from API_METHOD_NAMES, so the two sides cannot drift) and the desktop shell's few.
 */
import type { ApiMethodName } from '../shared/contract';

export function apiChannel(method: ApiMethodName): string {
  return `basis:api:${method}`;
}

export const SHELL_CHANNELS = {
  /** renderer -> main: show an open dialog; replies with a path or null. */
  chooseOpenPath: 'basis:shell:choose-open-path',
  /** renderer -> main: show a save dialog; replies with a path or null. */
  chooseSavePath: 'basis:shell:choose-save-path',
  /** main -> renderer: a menu command (open a path, go to a view). */
  command: 'basis:shell:command',
} as const;

export const OPEN_KINDS = ['activations', 'labels', 'dictionary'] as const;
export type OpenKind = (typeof OPEN_KINDS)[number];
