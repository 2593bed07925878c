import http from 'node:http';
import OSS from 'ali-oss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaign } from '../../../cli/campaign.js';
import { EXIT } from '../../../cli/exit.js';
import type { Io } from '../../../cli/print.js';
import { chunkResultsJsonl, chunkResultsKey } from '../../../lib/campaigns/results.js';
import type { Operation, RecipientResult } from '../../../lib/operation.js';
import { startOssServer, type OssServer } from '../../../local/oss/server.js';

/*
 * `coupon campaign results` reads the files the chunk worker writes (made here by the worker's own
 * chunkResultsJsonl, under its own key) from the local OSS server through ali-oss, and the campaign's counts
 * from an HTTP server answering GET /campaigns/{id} as the route does.
 */
const KEY = { accessKeyId: 'results-key', accessKeySecret: 'results-secret' };
const BUCKET = 'coupon-campaigns';
let oss: OssServer;
let routes: http.Server;
let port: string;
let counts: Record<string, unknown>;

const operation = (n: number, uids: string[]): Operation => ({
  sellerId: { digits: '3', kind: 'string' },
  templateId: { digits: '7', kind: 'string' },
  requestId: `c1:${n}`,
  fromApp: 'a',
  form: 'flat',
  recipients: uids.map((uid) => ({ uid: { digits: uid, kind: 'string' }, amount: 5, amountText: '5' })),
});

beforeAll(async () => {
  oss = await startOssServer({ buckets: [BUCKET], credentials: [KEY], host: '127.0.0.1', port: 0 });
  const client = new OSS({ endpoint: oss.url, region: 'oss-cn-hangzhou', bucket: BUCKET, secure: false, ...KEY });
  const sent = (id: string): RecipientResult => ({ status: 'SENT', youhuiId: { text: id } }) as RecipientResult;
  const files: Array<[number, string[], RecipientResult[]]> = [
    [1, ['1918000000000000001', '1918000000000000002'], [sent('90071992547409931'), sent('90071992547409932')]],
    [
      2,
      ['1918000000000000003', '1918000000000000004'],
      [
        { status: 'FAILED', code: 'InvalidTemplate', message: 'no such template' } as RecipientResult,
        { status: 'UNKNOWN', code: 'UpstreamTimeout' } as RecipientResult,
      ],
    ],
  ];
  for (const [n, uids, results] of files)
    await client.put(chunkResultsKey('campaigns', 'c1', n), chunkResultsJsonl(operation(n, uids), results));
  await client.put('campaigns/c1/manifest.json', Buffer.from('{}'));
  routes = http.createServer((req, res) => {
    const found = req.url === '/campaigns/c1';
    res.writeHead(found ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(found ? counts : { Code: 'CampaignNotFound', Message: 'No campaign.' }));
  });
  await new Promise<void>((resolve) => routes.listen(0, '127.0.0.1', () => resolve()));
  const address = routes.address();
  port = String(typeof address === 'object' && address ? address.port : 0);
});
afterAll(async () => {
  await oss.close();
  await new Promise<void>((resolve) => routes.close(() => resolve()));
});

async function results(args: string[]) {
  const out: string[] = [];
  const notes: string[] = [];
  const io: Io = { out: (t) => void out.push(t), note: (t) => void notes.push(t) };
  const env = {
    PORT: port,
    OSS_ENDPOINT: oss.url,
    OSS_ACCESS_KEY_ID: KEY.accessKeyId,
    OSS_ACCESS_KEY_SECRET: KEY.accessKeySecret,
  };
  const code = await campaign(['results', 'c1', ...args], env, io);
  return { code, out: out.join('\n'), notes: notes.join('\n') };
}

describe('coupon campaign results', () => {
  it('a row per recipient in chunk order, uids masked, UNKNOWN with its reconcile command; exit 3', async () => {
    counts = { campaignId: 'c1', state: 'COMPLETED', total: 4, planned: 4, sent: 2, failed: 1, unknown: 1, pending: 0 };
    const r = await results([]);
    expect(r.code).toBe(EXIT.unknown);
    const lines = r.out.split('\n');
    expect(lines).toHaveLength(6);
    expect(lines[2]).toMatch(/^c1:1 +1918\*+001 +5 +SENT +90071992547409931$/);
    expect(lines[4]).toMatch(/^c1:2 +1918\*+003 +5 +FAILED +InvalidTemplate$/);
    expect(lines[5]).toMatch(/^c1:2 +1918\*+004 +5 +UNKNOWN +UpstreamTimeout +coupon reconcile --request-id c1:2$/);
    expect(r.out).not.toContain('1918000000000000001');
    expect(r.notes).toContain('4 results in 2 files (sent 2, failed 1, unknown 1) of 4 recipients');
    expect(r.notes).toContain('settle chunk 2: coupon reconcile --request-id c1:2');
  });

  it('--json --show-uids: one JSON object per recipient, whole uids, exact ids', async () => {
    const r = await results(['--json', '--show-uids']);
    const rows = r.out.split('\n').map((l) => JSON.parse(l) as Record<string, string>);
    expect(rows.map((x) => x['uid'])).toEqual([
      '1918000000000000001',
      '1918000000000000002',
      '1918000000000000003',
      '1918000000000000004',
    ]);
    expect(rows[0]).toEqual({
      requestId: 'c1:1',
      uid: '1918000000000000001',
      amount: '5',
      status: 'SENT',
      youhuiId: '90071992547409931',
    });
    expect(rows[3]?.['reconcile']).toBe('coupon reconcile --request-id c1:2');
  });

  it('says what is not written yet while the campaign runs, and exits 3', async () => {
    counts = { campaignId: 'c1', state: 'RUNNING', total: 6, planned: 6, sent: 4, failed: 1, unknown: 1, pending: 0 };
    const r = await results([]);
    expect(r.code).toBe(EXIT.unknown);
    expect(r.notes).toContain('2 counted outcomes have no results line yet');
  });

  it('an unknown campaign is exit 4 before the bucket is read', async () => {
    const out: string[] = [];
    await expect(
      campaign(
        ['results', 'other'],
        { PORT: port, OSS_ENDPOINT: 'http://127.0.0.1:1' },
        { out: (t) => void out.push(t), note: () => undefined },
      ),
    ).rejects.toThrow(/no campaign other \(CampaignNotFound/);
    expect(out).toEqual([]);
  });

  it('a key the bucket refuses is a configuration error naming the variables', async () => {
    await expect(
      campaign(
        ['results', 'c1'],
        { PORT: port, OSS_ENDPOINT: oss.url, OSS_ACCESS_KEY_ID: 'wrong', OSS_ACCESS_KEY_SECRET: 'x' },
        { out: () => undefined, note: () => undefined },
      ),
    ).rejects.toThrow(/refused the key \(InvalidAccessKeyId\).*set OSS_ACCESS_KEY_ID\/_SECRET/);
  });
});
