/**
 * `coupon ui --url https://<coupon-ops trigger>`: the deployed operations page in a browser. The trigger's
 * `function` auth admits signed requests only, and a browser cannot sign, so this listens on 127.0.0.1 and signs
 * each request under /__ui with the operator's key on its way to the trigger.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { signRequest, type AcsCredentials } from '../lib/acs/sign-request.js';
import type { Env } from '../lib/config.js';
import { originProblem } from '../lib/ui/csrf.js';
import { BASE } from '../lib/ui/views.js';
import { EXIT, UsageError } from './exit.js';
import type { Output } from './print.js';
import { cloudCredentials } from './target.js';

const MAX_BODY = 64 * 1024;
/** The page's own headers, passed back as the trigger gave them; nothing else of the answer is. */
const PASSED_BACK = [
  'content-type',
  'cache-control',
  'content-security-policy',
  'x-frame-options',
  'x-content-type-options',
  'referrer-policy',
];

export interface UiProxy {
  /** The page's address on this machine. */
  url: string;
  close(): Promise<void>;
}

const answer = (res: http.ServerResponse, status: number, text: string) =>
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }).end(`${text}\n`);

function readBody(req: http.IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => resolve(size <= MAX_BODY ? Buffer.concat(chunks) : undefined));
    req.on('error', reject);
  });
}

/** Signs and passes on the page's requests to `target` (the trigger's base URL); listens on 127.0.0.1:`port`. */
export async function startUiProxy(target: URL, credentials: AcsCredentials, port = 0): Promise<UiProxy> {
  let own = '';
  const server = http.createServer((req, res) => {
    void (async () => {
      const path = new URL(req.url ?? '/', 'http://proxy.invalid');
      if (path.pathname !== BASE && !path.pathname.startsWith(`${BASE}/`))
        return answer(res, 404, `Not found: the operations page is at ${own}${BASE}`);
      // A page elsewhere whose name resolves to 127.0.0.1 (DNS rebinding) must not read through the proxy either.
      if (`http://${req.headers.host ?? ''}` !== own) return answer(res, 421, `Open the page at ${own}${BASE}`);
      if (req.method !== 'GET' && req.method !== 'POST') return answer(res, 405, `${req.method} is not allowed`);
      // Whatever reaches this port is signed with the operator's key, so a post that a page elsewhere makes the
      // browser send must stop here: it is refused unless it comes from this proxy's own origin.
      if (req.method === 'POST') {
        const crossSite = originProblem(req.headers, own);
        if (crossSite) return answer(res, 403, `Refused: ${crossSite}`);
      }
      const body = req.method === 'POST' ? await readBody(req) : Buffer.alloc(0);
      if (body === undefined) return answer(res, 413, `The form is larger than ${MAX_BODY} bytes`);
      const url = new URL(`${path.pathname}${path.search}`, target);
      const headers: Record<string, string> = {};
      const type = req.headers['content-type'];
      if (type) headers['content-type'] = type;
      // The page checks its own origin too: the trigger's, which this proxy stands for.
      if (req.method === 'POST') Object.assign(headers, { origin: url.origin, referer: `${url.origin}${BASE}` });
      let upstream: Response;
      try {
        upstream = await fetch(url, {
          method: req.method,
          headers: signRequest({ method: req.method, url, headers, body }, credentials),
          ...(req.method === 'POST' ? { body } : {}),
          redirect: 'manual',
          signal: AbortSignal.timeout(60_000),
        });
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        return answer(res, 502, `${url.origin} did not answer (${reason.slice(0, 120)})`);
      }
      const passed: Record<string, string> = {};
      for (const name of PASSED_BACK) {
        const value = upstream.headers.get(name);
        if (value !== null) passed[name] = value;
      }
      res.writeHead(upstream.status, passed).end(Buffer.from(await upstream.arrayBuffer()));
    })().catch(() => {
      if (!res.headersSent) answer(res, 502, 'the page could not be fetched');
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  own = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `${own}${BASE}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The command: runs until interrupted (Ctrl-C), then closes the port. */
export async function ui(values: Record<string, unknown>, env: Env, output: Output): Promise<number> {
  const raw = values['url'];
  if (typeof raw !== 'string') throw new UsageError('--url is required: the coupon-ops HTTP trigger URL');
  let target: URL;
  try {
    target = new URL(raw);
  } catch {
    throw new UsageError(
      `--url must be a URL such as https://<trigger>.cn-hangzhou.fcapp.run (got "${raw.slice(0, 80)}")`,
    );
  }
  if (target.protocol !== 'https:' && target.protocol !== 'http:')
    throw new UsageError('--url must be an http:// or https:// URL');
  const rawPort = values['port'];
  const port = rawPort === undefined ? 8787 : Number(rawPort);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError('--port must be a whole number from 0 to 65535');
  const proxy = await startUiProxy(target, cloudCredentials(env), port);
  output.out(`Operations page: ${proxy.url} (signed on to ${target.origin}; Ctrl-C stops)`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await proxy.close();
  return EXIT.ok;
}
