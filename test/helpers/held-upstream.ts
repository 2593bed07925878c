import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HeldUpstream {
  url: string;
  /** SendCoupon calls forwarded so far (each after its hold). */
  forwarded(): number;
  close(): Promise<void>;
}

/**
 * A slow upstream, not a lost one: an HTTP proxy in front of the emulator that holds each SendCoupon for
 * `holdMs` before forwarding it (whether or not its caller still waits), while every other call (GetCouponPage)
 * passes at once. So a caller that gave up sees no coupon yet, and the coupon appears later.
 */
export async function startHeldUpstream(target: string, holdMs: number): Promise<HeldUpstream> {
  const upstream = new URL(target);
  let forwarded = 0;
  const timers = new Set<NodeJS.Timeout>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const forward = () => {
        const out = http.request(
          { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers },
          (answer) => {
            if (req.headers['x-acs-action'] === 'SendCoupon') forwarded += 1;
            if (res.destroyed) return void answer.resume();
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        out.on('error', () => res.destroy());
        out.end(Buffer.concat(chunks));
      };
      if (req.headers['x-acs-action'] !== 'SendCoupon') return forward();
      const timer = setTimeout(() => {
        timers.delete(timer);
        forward();
      }, holdMs);
      timers.add(timer);
    });
    // The caller giving up must not cancel the held call: the upstream still acts on it.
    req.socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    forwarded: () => forwarded,
    close: async () => {
      for (const t of timers) clearTimeout(t);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
