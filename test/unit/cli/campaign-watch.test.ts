import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { campaign } from '../../../cli/campaign.js';
import { EXIT } from '../../../cli/exit.js';
import type { Io } from '../../../cli/print.js';

/*
 * The watch loop against an HTTP server that answers GET /campaigns/{id} from a script of answers, one per poll
 * (the last repeats): what the command draws, writes and exits with as a campaign moves.
 */
let server: http.Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

type Scripted = { status: number; body: unknown };

async function serve(script: Scripted[]): Promise<{ port: string; polls: () => number }> {
  let polls = 0;
  server = http.createServer((req, res) => {
    const answer = script[Math.min(polls, script.length - 1)] as Scripted;
    polls += 1;
    res.writeHead(answer.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  return { port: String(typeof address === 'object' && address ? address.port : 0), polls: () => polls };
}

const at = (state: string, sent: number, extra: Record<string, unknown> = {}) => ({
  status: 200,
  body: {
    campaignId: 'c1',
    state,
    total: state === 'PLANNING' ? 0 : 4000,
    planned: state === 'PLANNING' ? 1000 : 4000,
    sent,
    failed: 0,
    unknown: 0,
    pending: (state === 'PLANNING' ? 0 : 4000) - sent,
    ...extra,
  },
});

function recorder(terminal: boolean) {
  const out: string[] = [];
  const notes: string[] = [];
  const bars: string[] = [];
  const io: Io = {
    out: (t) => void out.push(t),
    note: (t) => void notes.push(t),
    ...(terminal
      ? { progress: (done: number, total: number, label: string) => void bars.push(`${done}/${total} ${label}`) }
      : {}),
  };
  return { io, out, notes, bars };
}

describe('coupon campaign status --watch', () => {
  it('on a terminal, redraws the bar each poll and ends with the final status (exit 0)', async () => {
    const { port, polls } = await serve([
      at('PLANNING', 0),
      at('RUNNING', 1000),
      at('RUNNING', 3000),
      at('COMPLETED', 4000),
    ]);
    const r = recorder(true);
    const code = await campaign(['status', 'c1', '--watch', '--interval', '0.1'], { PORT: port }, r.io);
    expect(code).toBe(EXIT.ok);
    expect(polls()).toBe(4);
    expect(r.bars).toEqual(['0/1 c1 planning, 1,000 planned', '1000/4000 c1 RUNNING', '3000/4000 c1 RUNNING']);
    expect(r.out).toEqual([
      expect.stringMatching(/^c1: COMPLETED, 4,000 of 4,000 done \(sent 4,000, failed 0, unknown 0, pending 0/),
    ]);
  });

  it('elsewhere, writes a line only when a count changes; an unfinished-then-UNKNOWN campaign exits 3', async () => {
    const { port } = await serve([
      at('RUNNING', 1000, { eta: 10 }),
      at('RUNNING', 1000, { eta: 9 }),
      at('RUNNING', 2000),
      { status: 200, body: { ...at('COMPLETED', 3990).body, unknown: 10, pending: 0 } },
    ]);
    const r = recorder(false);
    const code = await campaign(['status', 'c1', '--watch', '--interval', '0.1'], { PORT: port }, r.io);
    expect(code).toBe(EXIT.unknown);
    expect(r.notes.filter((n) => n.startsWith('c1: RUNNING'))).toHaveLength(2);
    expect(r.notes.join('\n')).toMatch(/10 outcomes are UNKNOWN.*coupon campaign results c1/);
  });

  it('asks again after a failed poll, and gives up with exit 1 when the stack keeps failing', async () => {
    const failing = { status: 503, body: { Code: 'ServiceUnavailable', Message: 'store down' } };
    const recovering = await serve([at('RUNNING', 1000), failing, at('CANCELLED', 1000)]);
    const r = recorder(false);
    expect(await campaign(['status', 'c1', '--watch', '--interval', '0.1'], { PORT: recovering.port }, r.io)).toBe(
      EXIT.failed,
    );
    expect(r.notes.join('\n')).toMatch(/ServiceUnavailable store down; trying again \(1 of 4\)/);
    expect(r.out[0]).toMatch(/^c1: CANCELLED/);
    await new Promise<void>((resolve) => server?.close(() => resolve()));

    const down = await serve([failing]);
    const r2 = recorder(false);
    await expect(
      campaign(['status', 'c1', '--watch', '--interval', '0.1'], { PORT: down.port }, r2.io),
    ).rejects.toThrow(/could not give campaign c1: ServiceUnavailable/);
    expect(down.polls()).toBe(5);
  });

  it('an unknown campaign ends the watch at once with exit 4', async () => {
    const { port } = await serve([{ status: 404, body: { Code: 'CampaignNotFound', Message: 'No campaign c1.' } }]);
    await expect(
      campaign(['status', 'c1', '--watch', '--interval', '0.1'], { PORT: port }, recorder(false).io),
    ).rejects.toThrow(/no campaign c1 \(CampaignNotFound: No campaign c1\.\)/);
  });

  it('an answer that is not a campaign is named by field, never shown as one', async () => {
    const { port } = await serve([{ status: 200, body: { campaignId: 'c1', state: 'RUNNING', total: 'lots' } }]);
    await expect(campaign(['status', 'c1', '--json'], { PORT: port }, recorder(false).io)).rejects.toThrow(
      /answered 200 without a campaign: total is not a whole number/,
    );
  });
});
