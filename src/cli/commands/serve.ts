/**
 * `basis serve`: the workbench in an ordinary browser. Starts the loopback HTTP transport
 * (src/main/serve) over the same database as the other commands and prints the address,
 * token included; it runs until Ctrl-C.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startServer } from '../../main/serve/server';
import { inputError } from '../../shared/errors';
import { expectNumber } from '../../shared/validate';
import type { Command } from '../command';

/** The built renderer, next to the CLI bundle (out/main/cli.js -> out/renderer). */
export function defaultRendererFolder(): string {
  return join(__dirname, '..', 'renderer');
}

/** Opens `url` in the desktop's browser; failures are reported, never fatal. */
function openInBrowser(url: string, stderr: NodeJS.WritableStream): void {
  const [program, args] =
    process.platform === 'darwin'
      ? ['open', [url]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '', url]]
        : ['xdg-open', [url]];
  const child = spawn(program, args as string[], { stdio: 'ignore', detached: true });
  child.on('error', (error) =>
    stderr.write(`basis serve: could not open a browser (${error.message})\n`),
  );
  child.unref();
}

export const serveCommand: Command = {
  name: 'serve',
  summary: 'Serve the workbench to a browser on 127.0.0.1 (token-protected)',
  usage: 'basis serve [--port P] [--open]',
  details: [
    'Binds 127.0.0.1 only and prints an address carrying a random token; open it once and the',
    'browser keeps the token in a cookie. From a remote machine, forward the port over SSH:',
    '  ssh -L 7370:127.0.0.1:7370 gpu-box basis serve --port 7370',
    'then open the printed address locally. Stop with Ctrl-C.',
  ].join('\n'),
  options: {
    port: { type: 'string', value: 'P', description: 'Port to listen on (default: any free port)' },
    open: { type: 'boolean', description: 'Open the address in the default browser' },
  },
  positionals: { names: [], required: 0 },
  async run(context) {
    const port =
      context.options.port === undefined
        ? 0
        : expectNumber(context.options.port, '--port', { integer: true, min: 0, max: 65535 });
    const rendererFolder = defaultRendererFolder();
    if (!existsSync(join(rendererFolder, 'index.html'))) {
      throw inputError(`${rendererFolder}/index.html is missing: run "npm run build" first`);
    }

    const server = await startServer(context.service(), { port, rendererFolder });
    if (context.json) {
      context.stdout.write(
        `${JSON.stringify({ url: server.url, origin: server.origin, token: server.token, port: server.port })}\n`,
      );
    } else {
      context.stdout.write(
        `Basis is serving ${context.databasePath}\nOpen ${server.url}\nStop with Ctrl-C.\n`,
      );
    }
    if (context.options.open === true) openInBrowser(server.url, context.stderr);

    await new Promise<void>((resolve) => {
      if (context.signal.aborted) resolve();
      else context.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await server.close();
  },
};
