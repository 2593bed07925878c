import http from 'node:http';
import type net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { keepAliveAgent, maxIdleMs } from '../../../lib/http/keep-alive.js';

describe("the server's Keep-Alive hint", () => {
  it.each<[string | undefined, number]>([
    [undefined, 4000],
    ['timeout=5', 4000],
    ['timeout=3', 2000],
    ['timeout=5, max=100', 4000],
    ['max=100, timeout=3', 2000],
    ['Timeout = 2', 1000],
    ['timeout=1', 0],
    ['timeout=0', 0],
    ['timeout=600', 4000],
    ['timeout=abc', 4000],
    ['timeout=3x', 4000],
    ['xtimeout=3', 4000],
    ['max=5', 4000],
  ])('%s → a socket may idle %i ms (cap 4000)', (header, ms) => {
    expect(maxIdleMs(header, 4000)).toBe(ms);
  });
});

describe('the keep-alive agent, by the clock', () => {
  const closers: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((c) => c()));
  });

  async function exchangeOnce(hint: string | undefined) {
    const server = http.createServer((_req, res) => {
      res.writeHead(200, hint === undefined ? {} : { 'keep-alive': hint });
      res.end('{}');
    });
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise((r) => server.close(r)));
    const agent = keepAliveAgent(http.Agent, {}, 1000);
    closers.push(async () => agent.destroy());
    const { port } = server.address() as net.AddressInfo;
    await new Promise<void>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, agent, method: 'POST' }, (res) => {
        agent.noteAnswer(res.socket, res.headers['keep-alive'] as string | undefined);
        res.resume();
        res.on('end', () => setImmediate(resolve));
      });
      req.on('error', reject);
      req.end();
    });
    const free = Object.values(agent.freeSockets).flat() as net.Socket[];
    return { agent, free };
  }

  it('keeps a socket for its limit and destroys it once the clock is past it, with no timer involved', async () => {
    const { agent, free } = await exchangeOnce(undefined);
    expect(free).toHaveLength(1);
    const at = Date.now();
    agent.evictStale(at + 900);
    expect(free[0]?.destroyed).toBe(false);
    expect(agent.hasFreeSocket()).toBe(true);
    agent.evictStale(at + 1100);
    expect(free[0]?.destroyed).toBe(true);
    expect(agent.hasFreeSocket()).toBe(false);
  });

  it('follows a shorter hint: timeout=2 allows 1 s less the margin', async () => {
    const { agent, free } = await exchangeOnce('timeout=2');
    agent.evictStale(Date.now() + 0);
    expect(free[0]?.destroyed).toBe(false);
    agent.evictStale(Date.now() + 1001);
    expect(free[0]?.destroyed).toBe(true);
  });

  it('does not keep a socket at all when the hint leaves no time (timeout=1)', async () => {
    const { free } = await exchangeOnce('timeout=1');
    expect(free).toHaveLength(0);
  });
});
