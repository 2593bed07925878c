import { randomUUID } from 'node:crypto';
import { EVENTBRIDGE_PUT_EVENTS_PATH, signPutEvents } from '../lib/acs/eventbridge.js';
import type { AcsCredentials } from '../lib/acs/sign-request.js';
import type { Env } from '../lib/config.js';
import { JsonSyntaxError, parseJsonExact } from '../lib/json.js';
import { CallError, EXIT, OutcomeUnknownError, UsageError } from './exit.js';
import type { Output } from './print.js';
import { bodyOf, type SendOptions } from './send.js';
import { cloudCredentials, localBase, localCredentials } from './target.js';
import { inline } from './terminal.js';

export interface PublishOptions extends SendOptions {
  id?: string;
  source?: string;
  type?: string;
  bus?: string;
  'eventbridge-endpoint'?: string;
}

/** What the ROS stack's rule matches (deploy/ros/coupon-sender.yaml) and the bus it listens on. */
export const DEFAULT_SOURCE = 'acs.coupon.campaign';
export const DEFAULT_BUS = 'coupon-sender';
const EVENT_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Where the event goes: the local stack's gateway (default), or a region's EventBridge endpoint. */
function endpointOf(o: PublishOptions, env: Env): { url: URL; credentials: AcsCredentials | undefined } {
  const explicit = o['eventbridge-endpoint'];
  const region = o.region;
  if (explicit !== undefined || region !== undefined) {
    const account = o['account-id'] ?? env['ALIBABA_CLOUD_ACCOUNT_ID'];
    const base = explicit ?? (account ? `https://${account}.eventbridge.${region}.aliyuncs.com` : undefined);
    if (!base) throw new UsageError('--region needs --account-id (or ALIBABA_CLOUD_ACCOUNT_ID)');
    return { url: new URL(EVENTBRIDGE_PUT_EVENTS_PATH, base), credentials: cloudCredentials(env) };
  }
  return { url: new URL(EVENTBRIDGE_PUT_EVENTS_PATH, localBase(env)), credentials: localCredentials(env) };
}

/**
 * The CloudEvent around the request's own JSON text, kept byte for byte: its ids stay the digits typed, never
 * a number JSON.parse would round on the way.
 */
export function cloudEventText(request: string, id: string, source: string, type: string, bus: string): string {
  const head = { specversion: '1.0', id, source, type, datacontenttype: 'application/json', aliyuneventbusname: bus };
  return `[${JSON.stringify(head).slice(0, -1)},"data":${request.trim()}}]`;
}

interface PutEventsAnswer {
  RequestId?: string;
  FailedEntryCount?: number;
  EntryList?: Array<{ EventId?: string; ErrorCode?: string; ErrorMessage?: string }>;
  Code?: string;
  Message?: string;
}

/**
 * `coupon publish`: the send request as one CloudEvent on the event bus, as a producer publishes it. The
 * function's operation is `<source>:<id>` (unless the request names its own RequestId), so publishing the same
 * event again never issues twice.
 */
export async function publish(o: PublishOptions, env: Env, output: Output): Promise<number> {
  if (o.file !== undefined && (o.template !== undefined || o.uid !== undefined))
    throw new UsageError('give --file or the request flags, not both');
  if (o.url !== undefined || o.function !== undefined)
    throw new UsageError(
      'publish goes to an event bus: use --region (or --eventbridge-endpoint), not --url or --function',
    );
  const id = o.id ?? o['request-id'];
  if (!id) throw new UsageError('--id is required: the event id names the operation (<source>:<id>)');
  if (!EVENT_ID.test(id)) throw new UsageError('--id takes 1-128 of A-Z a-z 0-9 . _ : -');
  const request = bodyOf({ ...o, 'request-id': o['request-id'] ?? id }, env);
  try {
    parseJsonExact(request);
  } catch (err) {
    if (err instanceof JsonSyntaxError) throw new UsageError(`the request is not JSON: ${err.message}`);
    throw err;
  }
  const source = o.source ?? DEFAULT_SOURCE;
  const bus = o.bus ?? DEFAULT_BUS;
  const body = cloudEventText(request, id, source, o.type ?? 'coupon:Send', bus);
  const { url, credentials } = endpointOf(o, env);
  const headers = credentials
    ? signPutEvents(url.host, credentials, new Date(), randomUUID())
    : { 'content-type': 'application/cloudevents-batch+json; charset=utf-8' };
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers, body });
  } catch {
    throw new CallError(`${url.origin} does not answer: nothing was published`);
  }
  let answer: PutEventsAnswer;
  try {
    answer = (await res.json()) as PutEventsAnswer;
  } catch {
    throw new OutcomeUnknownError(
      `the answer of ${url.origin} was lost or unreadable: the event may be published; publishing it again is safe`,
    );
  }
  const entry = answer.EntryList?.[0];
  const failed = res.status !== 200 || (answer.FailedEntryCount ?? 0) > 0 || entry?.ErrorCode !== undefined;
  const requestId = `${source}:${id}`;
  if (output.json) output.out(JSON.stringify({ status: res.status, ...answer }));
  else if (failed)
    output.out(
      `not published: ${inline(entry?.ErrorCode ?? answer.Code ?? String(res.status))} ${inline(entry?.ErrorMessage ?? answer.Message ?? '')}`,
    );
  else output.out(`published event ${inline(entry?.EventId ?? id)} to bus ${inline(bus)}`);
  if (!failed)
    output.note(
      `the function runs it asynchronously; run coupon status --request-id ${inline(requestId)} to follow it (or the request's own RequestId)`,
    );
  return failed ? EXIT.failed : EXIT.ok;
}
