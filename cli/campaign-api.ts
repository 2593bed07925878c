import type { AcsCredentials } from '../lib/acs/sign-request.js';
import type { Env } from '../lib/config.js';
import { readProgress, type Progress } from './campaign-view.js';
import { CallError, NotFoundError, OutcomeUnknownError, UsageError } from './exit.js';
import { cloudCredentials, localBase, localCredentials, request } from './target.js';
import { inline } from './terminal.js';

/** Where the campaign routes are: the local stack's HTTP function, or a deployed HTTP trigger (--url). */
export interface CampaignTarget {
  base: URL;
  local: boolean;
  credentials?: AcsCredentials;
}

export function campaignTarget(url: string | undefined, env: Env): CampaignTarget {
  if (url === undefined) {
    const credentials = localCredentials(env);
    return { base: localBase(env), local: true, ...(credentials ? { credentials } : {}) };
  }
  let base: URL;
  try {
    base = new URL(url);
  } catch {
    throw new UsageError(`--url must be a URL (got "${inline(url.slice(0, 64))}")`);
  }
  return { base, local: false, credentials: cloudCredentials(env) };
}

/** What `POST /campaigns` takes. Ids go as strings of their digits, so nothing is rounded. */
export interface StartBody {
  CampaignId: string;
  TemplateId: string;
  SellerId?: string;
  FromApp?: string;
  Bucket: string;
  Key: string;
}

export interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/** A refusal's Code and Message, as the function words them. */
export const codeOf = (a: Answer): string => (typeof a.body['Code'] === 'string' ? a.body['Code'] : `HTTP ${a.status}`);
export const messageOf = (a: Answer): string =>
  inline(typeof a.body['Message'] === 'string' ? a.body['Message'].slice(0, 300) : '');

const where = (t: CampaignTarget) => (t.local ? `the local stack at ${t.base.href}` : t.base.origin);

/**
 * One call to the campaign routes. A refused connection did nothing. A POST whose answer was lost may have
 * acted: every campaign call is idempotent (start by its CampaignId, control by its target state), so the
 * message says to run the same command again.
 */
async function call(t: CampaignTarget, method: 'GET' | 'POST', path: string, body = ''): Promise<Answer> {
  const url = new URL(path, t.base);
  let res: Response;
  let text: string;
  try {
    res = await request(method, url, body, t.credentials);
  } catch (err) {
    const cause = err instanceof Error ? (err.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
    const refused =
      ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'].includes(String(cause?.code)) ||
      cause?.message === 'bad port';
    if (refused || method === 'GET')
      throw new CallError(
        `${where(t)} does not answer${t.local ? ' (start it with npm start, or set PORT)' : ''}: nothing was ${method === 'GET' ? 'done' : 'started or changed'}`,
      );
    throw new OutcomeUnknownError(
      `the connection to ${t.base.origin} was lost before its answer; run the same command again (it is idempotent)`,
    );
  }
  try {
    text = await res.text();
  } catch {
    if (method === 'GET') throw new CallError(`the answer of ${where(t)} was cut off`);
    throw new OutcomeUnknownError('the answer was cut off; run the same command again (it is idempotent)');
  }
  if (res.status === 401 || res.status === 403) {
    let parsed: Record<string, unknown> = {};
    try {
      parsed = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // the status says enough
    }
    const code = typeof parsed['Code'] === 'string' ? parsed['Code'] : `HTTP ${res.status}`;
    if (res.status === 401 || /Signature|AccessKey|Authorization|Nonce|Forbidden/i.test(code))
      throw new UsageError(
        `${where(t)} refused the caller (${inline(code)}): set LOCAL_CALLER_KEYS as the stack has it, or ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET for a deployment`,
      );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const bodyObject =
    parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  return { status: res.status, body: bodyObject };
}

/** The progress object of a 2xx answer; anything else there is the target's fault, said by field. */
function progressOf(t: CampaignTarget, a: Answer): Progress {
  const p = readProgress(a.body);
  if ('problem' in p) throw new CallError(`${where(t)} answered ${a.status} without a campaign: ${p.problem}`);
  return p;
}

function notFound(id: string, a: Answer): NotFoundError {
  return new NotFoundError(
    `no campaign ${inline(id)} (${inline(codeOf(a))}${messageOf(a) ? `: ${messageOf(a)}` : ''})`,
  );
}

export const campaignPath = (id: string, action?: string) =>
  `/campaigns/${encodeURIComponent(id)}${action ? `/${action}` : ''}`;

export type StartAnswer =
  | { kind: 'started' | 'existing'; progress: Progress; body: Record<string, unknown> }
  | { kind: 'refused'; answer: Answer }
  | { kind: 'no-route'; answer: Answer };

export async function startCampaignCall(t: CampaignTarget, body: StartBody): Promise<StartAnswer> {
  const a = await call(t, 'POST', '/campaigns', JSON.stringify(body));
  if (a.status === 202 || a.status === 201 || a.status === 200) {
    return { kind: a.status === 200 ? 'existing' : 'started', progress: progressOf(t, a), body: a.body };
  }
  if (a.status === 404 || a.status === 405) return { kind: 'no-route', answer: a };
  return { kind: 'refused', answer: a };
}

export async function getCampaign(t: CampaignTarget, id: string): Promise<Progress> {
  const a = await call(t, 'GET', campaignPath(id));
  if (a.status === 404) throw notFound(id, a);
  if (a.status !== 200)
    throw new CallError(`${where(t)} could not give campaign ${inline(id)}: ${codeOf(a)} ${messageOf(a)}`.trimEnd());
  return progressOf(t, a);
}

export type ControlAnswer = { ok: true; progress: Progress } | { ok: false; answer: Answer };

export async function controlCampaign(
  t: CampaignTarget,
  id: string,
  action: 'pause' | 'resume' | 'cancel',
): Promise<ControlAnswer> {
  const a = await call(t, 'POST', campaignPath(id, action));
  if (a.status === 404) throw notFound(id, a);
  if (a.status >= 200 && a.status < 300) return { ok: true, progress: progressOf(t, a) };
  return { ok: false, answer: a };
}
