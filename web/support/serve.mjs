// Starts `logclf serve` on a free loopback port for the Node.js checks (the browser test, the OpenAPI
// validation): resolves with the server's base URL once it says where it listens.
import { spawn } from 'node:child_process';

// `onLog` receives each piece of the server's standard error (for a report when a check fails).
export function startServer(logclf, extraArgs = [], onLog = () => {}) {
  const server = spawn(logclf, ['serve', '--host', '127.0.0.1', '--port', '0', ...extraArgs],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  const base = new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error('logclf serve did not report its address within 30 s')), 30_000);
    server.stderr.on('data', (chunk) => {
      buffered += chunk;
      onLog(chunk.toString());
      const match = /logclf: serving on (http:\/\/[^\s]+)/.exec(buffered);
      if (match) {
        clearTimeout(timer);
        resolve(match[1].replace(/\/$/, ''));
      }
    });
    server.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`logclf serve exited (${code ?? signal}) before listening:\n${buffered}`));
    });
  });
  return { server, base };
}

// Stops a server started above (SIGTERM) and waits for it to exit.
export async function stopServer(server) {
  if (server.exitCode !== null || server.signalCode !== null) return;
  const exited = new Promise((resolve) => server.once('exit', resolve));
  server.kill('SIGTERM');
  await exited;
}
