import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export interface RedisServer {
  url: string;
  port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

/** The test certificate for `localhost` (test/fixtures/tls/), which `rediss://` clients must be told to trust. */
export const TEST_CA_FILE = fileURLToPath(new URL('../fixtures/tls/cert.pem', import.meta.url));

/**
 * A real redis-server on a free loopback port, without persistence; it can be stopped and started again. With a
 * password, clients must authenticate (the URL carries it). With `tls`, it speaks only TLS, with the certificate
 * for `localhost` in test/fixtures/tls/, and its URL is `rediss://localhost:…`. `args` are more redis-server options.
 */
export async function startRedis(
  options: { password?: string; tls?: boolean; args?: string[] } = {},
): Promise<RedisServer> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const listen = options.tls
    ? ['--port', '0', '--tls-port', String(port), '--tls-auth-clients', 'no']
    : ['--port', String(port)];
  const args = [...listen, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  if (options.tls)
    args.push('--tls-cert-file', TEST_CA_FILE, '--tls-key-file', TEST_CA_FILE.replace(/cert\.pem$/, 'key.pem'));
  if (options.password) args.push('--requirepass', options.password);
  args.push(...(options.args ?? []));
  const start = async () => {
    child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    // However a test file ends (an afterAll that threw first included), its servers end with it.
    const started = child;
    process.once('exit', () => started.kill('SIGKILL'));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('redis-server did not start')), 10_000);
      child?.stdout?.on('data', (c: Buffer) => {
        if (c.toString().includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child?.once('error', (err) => {
        clearTimeout(timer);
        reject(
          new Error(
            `redis-server could not be started (${err.message}); install it, e.g. apt-get install redis-server`,
          ),
        );
      });
    });
  };
  await start();
  return {
    url: `${options.tls ? 'rediss' : 'redis'}://${options.password ? `:${encodeURIComponent(options.password)}@` : ''}${options.tls ? 'localhost' : '127.0.0.1'}:${port}`,
    port,
    start,
    stop: async () => {
      const c = child;
      if (!c || c.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
      c.kill('SIGKILL');
      await exited;
    },
  };
}
