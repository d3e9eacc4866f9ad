/**
 * The IPC side of the contract: one ipcMain.handle per method of API_METHOD_NAMES. Each
 * handler checks that the message comes from the app's own page, parses the arguments with
 * parseArguments, calls the service and replies with an ApiReply (errors keep their kind,
 * which an exception crossing IPC would lose).
 */
import type { IpcMain, IpcMainInvokeEvent } from 'electron';
import {
  API_METHOD_NAMES,
  type ApiMethodName,
  type ApiReply,
  type BasisApi,
} from '../../shared/contract';
import { parseArguments } from '../../shared/contractArguments';
import { BasisError, serializeError } from '../../shared/errors';
import { apiChannel } from '../../preload/channels';
import { toPlainValue } from '../serve/plainValue';
import { createLogger } from '../service/log';

const log = createLogger('ipc');

export interface IpcOptions {
  /** True when the event comes from the app's own page. */
  isTrustedSender: (event: IpcMainInvokeEvent) => boolean;
  /** Called after a successful call, e.g. to refresh the Recent menu after openDataset. */
  afterCall?: (method: ApiMethodName) => void;
}

export async function handleApiCall(
  api: BasisApi,
  method: ApiMethodName,
  args: unknown[],
): Promise<ApiReply<unknown>> {
  try {
    const parsed = parseArguments(method, args);
    const call = api[method] as (...values: unknown[]) => Promise<unknown>;
    return { ok: true, value: toPlainValue(await call.apply(api, parsed)) };
  } catch (error) {
    const serialized = serializeError(error);
    if (serialized.kind === 'bug') log.error(`${method} failed: ${serialized.message}`);
    return { ok: false, error: serialized };
  }
}

export function registerApiHandlers(
  ipcMain: IpcMain,
  api: BasisApi,
  options: IpcOptions,
): () => void {
  for (const method of API_METHOD_NAMES) {
    ipcMain.handle(apiChannel(method), async (event, ...args: unknown[]) => {
      if (!options.isTrustedSender(event)) {
        log.warn(`refused ${method} from ${event.senderFrame?.url ?? 'an unknown frame'}`);
        return {
          ok: false,
          error: serializeError(new BasisError('input', 'refused: not the app page')),
        };
      }
      const reply = await handleApiCall(api, method, args);
      if (reply.ok) options.afterCall?.(method);
      return reply;
    });
  }
  return () => {
    for (const method of API_METHOD_NAMES) ipcMain.removeHandler(apiChannel(method));
  };
}
