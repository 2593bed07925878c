import { errorBody } from '../answer.js';
import { AppError } from '../errors.js';
import type { FcContext } from '../fc.js';
import { stringifyExact } from '../json.js';
import type { Logger } from '../log.js';
import { quote } from '../redact.js';
import type { Runtime } from '../runtime.js';
import { toFcHttpResponse, type FcHttpResponse, type HttpRequestView } from '../triggers/http-event.js';
import { exactJson, utf8Text } from '../triggers/parse.js';
import { startDeps } from './planner.js';
import { parseCampaignStart } from './request.js';
import { campaignServices, type CampaignServices } from './services.js';
import { admitCampaign, type CampaignStart, type Refusal } from './start.js';
import { recipientsPerSecond, type CampaignRecord, type ControlAction } from './state.js';
import {
  campaignView,
  manifestKey,
  PLANNER_FUNCTION,
  plannerTaskId,
  type CampaignManifest,
  type Round,
} from './tasks.js';

export const CAMPAIGNS_PATH = '/campaigns';
const MAX_BODY_BYTES = 64 * 1024;
const ID_PATH = /^\/campaigns\/([A-Za-z0-9_-]{1,48})(?:\/(pause|resume|cancel))?$/;

const json = (status: number, body: unknown) => toFcHttpResponse(status, stringifyExact(body), {});

const refusalReply = (r: Refusal) =>
  json(r.status, {
    ...errorBody(new AppError(r.status, r.code, r.message)),
    ...(r.invalidLines ? { invalidLines: r.invalidLines } : {}),
  });

const rate = (s: CampaignServices) => recipientsPerSecond(s.settings.quotaQps, s.runtime.config.chunkSize);

async function readManifest(s: CampaignServices, id: string): Promise<CampaignManifest> {
  const bucket = await s.bucket(s.settings.bucket);
  const parts: Buffer[] = [];
  for await (const part of await bucket.getStream(manifestKey(s.settings.prefix, id)))
    parts.push(Buffer.from(part as Uint8Array));
  return JSON.parse(Buffer.concat(parts).toString('utf8')) as CampaignManifest;
}

/** Submits the planner of a round; FC refusing the task id (409) means this round was submitted before. */
async function submitPlanner(s: CampaignServices, start: CampaignStart, round: Round): Promise<void> {
  await s.submit(PLANNER_FUNCTION, plannerTaskId(start.campaignId, round), { start, round });
}

async function startRoute(req: HttpRequestView, s: CampaignServices, log: Logger): Promise<FcHttpResponse> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json')
    throw new AppError(415, 'UnsupportedMediaType', 'Content-Type must be application/json.');
  if (req.body.length > MAX_BODY_BYTES)
    throw new AppError(413, 'PayloadTooLarge', `The body is ${req.body.length} bytes; at most ${MAX_BODY_BYTES}.`);
  const start = parseCampaignStart(exactJson(utf8Text(req.body, 'The body'), 'The body'), s.runtime.config);
  const admitted = await admitCampaign(start, startDeps(s, await s.bucket(start.bucket), start.sellerId.digits));
  if (admitted.kind === 'refused') {
    log.warn('campaign refused', { CampaignId: start.campaignId, Code: admitted.code, Message: admitted.message });
    return refusalReply(admitted);
  }
  const { plan } = admitted;
  // Written again by a repeated start while planning has not finished, so a start that died between recording
  // the campaign and writing its manifest is made whole; likewise a lost planner submission (a made one: 409).
  if (admitted.kind === 'started' || admitted.record.state === 'PLANNING') {
    const manifest: CampaignManifest = { start, invalidLines: plan.invalidLines, invalidCount: plan.invalidCount };
    await (
      await s.bucket(s.settings.bucket)
    ).put(manifestKey(s.settings.prefix, start.campaignId), Buffer.from(JSON.stringify(manifest)));
    await submitPlanner(s, start, 'start');
  }
  const record: CampaignRecord = admitted.record.planningDone
    ? admitted.record
    : { ...admitted.record, total: plan.total };
  log.info('campaign started', { CampaignId: start.campaignId, outcome: admitted.kind, total: plan.total });
  return json(admitted.kind === 'started' ? 202 : 200, campaignView(record, rate(s), Date.now(), plan.invalidLines));
}

async function controlRoute(s: CampaignServices, id: string, action: ControlAction): Promise<FcHttpResponse> {
  const before = await s.store.get(id);
  const t = await s.store.control(id, action);
  if (!before || !t) throw new AppError(404, 'CampaignNotFound', `No campaign ${id}.`);
  if (!t.ok) throw new AppError(409, 'InvalidCampaignState', `Cannot ${action} campaign ${id}: ${t.reason}.`);
  const record = t.record ?? before;
  const resumed = action === 'resume' && before.state === 'PAUSED' && record.state !== 'PAUSED';
  const cancelled = action === 'cancel' && before.state !== 'CANCELLED';
  if (resumed || cancelled) {
    const manifest = await readManifest(s, id);
    await submitPlanner(s, manifest.start, cancelled ? 'cancel' : { resume: record.resumes });
  }
  return json(200, campaignView(record, rate(s), Date.now()));
}

/**
 * The campaign routes of coupon-http (docs/campaigns.md): POST /campaigns, GET /campaigns/{id},
 * POST /campaigns/{id}/pause|resume|cancel. Loaded on the first campaign request only, with the FC SDK and ali-oss
 * behind it, so a send's cold start never pays for them.
 */
export async function campaignRoute(
  req: HttpRequestView,
  runtime: Runtime,
  context: FcContext,
  log: Logger,
): Promise<FcHttpResponse> {
  const path = req.path.length > 1 ? req.path.replace(/\/+$/, '') : req.path;
  const s = await campaignServices(runtime, context);
  if (path === CAMPAIGNS_PATH) {
    if (req.method !== 'POST')
      throw new AppError(405, 'MethodNotAllowed', `${quote(req.method)} is not allowed on /campaigns; use POST.`);
    return startRoute(req, s, log);
  }
  const match = ID_PATH.exec(path);
  if (!match?.[1]) throw new AppError(404, 'NotFound', `No route for ${quote(req.path)}.`);
  const id = match[1];
  const action = match[2] as ControlAction | undefined;
  if (action === undefined) {
    if (req.method !== 'GET')
      throw new AppError(405, 'MethodNotAllowed', `${quote(req.method)} is not allowed here; use GET.`);
    const record = await s.store.get(id);
    if (!record) throw new AppError(404, 'CampaignNotFound', `No campaign ${id}.`);
    const manifest = await readManifest(s, id).catch(() => undefined);
    return json(200, campaignView(record, rate(s), Date.now(), manifest?.invalidLines));
  }
  if (req.method !== 'POST')
    throw new AppError(405, 'MethodNotAllowed', `${quote(req.method)} is not allowed here; use POST.`);
  return controlRoute(s, id, action);
}
