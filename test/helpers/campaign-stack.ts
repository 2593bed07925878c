import { openBucket, type Bucket } from '../../lib/campaigns/bucket.js';
import { DEFAULT_EMULATOR_KEY_ID, DEFAULT_EMULATOR_KEY_SECRET } from '../../local/emulator/defaults.js';
import { startOssServer, type OssServer } from '../../local/oss/server.js';
import { call, postJson, startStack, type Answer, type Stack } from './stack.js';

export const CAMPAIGN_BUCKET = 'coupon-campaigns';

export interface CampaignStack {
  stack: Stack;
  oss: OssServer;
  /** The stack's bucket, through ali-oss with the key the functions' role has locally. */
  bucket: Bucket;
  stop(): Promise<void>;
}

/**
 * A local stack with a bucket the campaign functions read and write. The bucket server is started here and
 * handed to the stack as OSS_ENDPOINT; it accepts the key the instances get as their role's (the emulator's).
 */
export async function startCampaignStack(env: Record<string, string> = {}): Promise<CampaignStack> {
  const key = { accessKeyId: DEFAULT_EMULATOR_KEY_ID, accessKeySecret: DEFAULT_EMULATOR_KEY_SECRET };
  const oss = await startOssServer({ buckets: [CAMPAIGN_BUCKET], credentials: [key] });
  const stack = await startStack({ OSS_ENDPOINT: oss.url, OSS_BUCKET: CAMPAIGN_BUCKET, ...env });
  const bucket = await openBucket({ endpoint: oss.url, region: 'oss-cn-hangzhou', bucket: CAMPAIGN_BUCKET, ...key });
  return {
    stack,
    oss,
    bucket,
    stop: async () => {
      await stack.stop();
      await oss.close();
    },
  };
}

export const startCampaign = (stack: Stack, body: Record<string, unknown>): Promise<Answer> =>
  postJson(`${stack.gateway}/campaigns`, body);

export const campaignStatus = async (stack: Stack, id: string): Promise<Answer> =>
  call(`${stack.gateway}/campaigns/${id}`);

export const controlCampaign = (stack: Stack, id: string, action: 'pause' | 'resume' | 'cancel'): Promise<Answer> =>
  call(`${stack.gateway}/campaigns/${id}/${action}`, { method: 'POST' });

/** Polls the campaign until `done` holds for its progress object, or fails after `timeoutMs`. */
export async function waitForCampaign(
  stack: Stack,
  id: string,
  done: (view: Record<string, unknown>) => boolean,
  timeoutMs = 120_000,
): Promise<Record<string, unknown>> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < until) {
    const answer = await campaignStatus(stack, id);
    last = answer.json;
    if (answer.status === 200 && done(answer.json as Record<string, unknown>)) return answer.json;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`campaign ${id} did not get there in ${timeoutMs} ms: ${JSON.stringify(last)}`);
}

/** A CSV list of `count` recipients with distinct uids from `firstUid`, amounts 1.00 to 9.99. */
export function csvList(count: number, firstUid = 1918_000_000_000n): { text: string; uids: string[] } {
  const uids: string[] = [];
  const lines = ['uid,amount'];
  for (let i = 0; i < count; i++) {
    const uid = String(firstUid + BigInt(i));
    uids.push(uid);
    lines.push(`${uid},${1 + Math.floor((i % 900) / 100)}.${String(i % 100).padStart(2, '0')}`);
  }
  return { text: `${lines.join('\n')}\n`, uids };
}
