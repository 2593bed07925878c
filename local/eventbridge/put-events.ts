import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import {
  eventBridgeSignature,
  eventBridgeStringToSign,
  parseEventBridgeAuthorization,
} from '../../lib/acs/eventbridge.js';
import { ACS_MAX_SKEW_MS } from '../../lib/acs/constants.js';
import { JsonSyntaxError, parseJsonExact, stringifyExact } from '../../lib/json.js';
import { NonceWindow } from '../auth/nonce-window.js';
import { readBody, sendJson } from '../http-io.js';
import type { BusRule } from './rule.js';

/** EventBridge's own limit on one PutEvents call. */
const MAX_BODY = 256 * 1024;

export interface PutEventsOptions {
  rule: BusRule;
  /** LOCAL_AUTH=function: calls must be signed (EventBridge's data-plane signature) by one of these keys. */
  keys?: ReadonlyMap<string, string>;
  /** Hands one event to the rule's target, as EventBridge does (asynchronously: FC retries it). */
  deliver(functionName: string, event: Buffer, eventId: string): void;
  now?: () => number;
}

interface Entry {
  EventId: string;
  TraceId?: string;
  ErrorCode?: string;
  ErrorMessage?: string;
}

const refusal = (res: http.ServerResponse, status: number, code: string, message: string) =>
  sendJson(res, status, JSON.stringify({ RequestId: randomUUID(), Code: code, Message: message }));

const header = (req: http.IncomingMessage, name: string): string => {
  const v = req.headers[name];
  return Array.isArray(v) ? (v[0] ?? '') : (v ?? '');
};

/**
 * `POST /openapi/putEvents` on the local gateway: the call a producer makes to EventBridge's endpoint, checked
 * and routed through the same bus and rule as deployed. Each event is answered in EntryList; one that is not a
 * CloudEvent of this bus fails on its own and never stops the others.
 */
export function createPutEvents(options: PutEventsOptions) {
  const now = options.now ?? Date.now;
  const nonces = new NonceWindow();

  /** The signature, date and nonce, checked before the body is read; undefined when the call may go on. */
  const checkHead = (req: http.IncomingMessage, url: URL): [number, string, string] | undefined => {
    if (!options.keys) return undefined;
    const auth = parseEventBridgeAuthorization(header(req, 'authorization'));
    if (!auth)
      return [401, 'MissingAuthorization', 'an EventBridge signature (acs:<AccessKeyId>:<signature>) is required'];
    const secret = options.keys.get(auth.accessKeyId);
    if (secret === undefined) return [403, 'InvalidAccessKeyId', 'the AccessKeyId is not known'];
    const headers = Object.fromEntries(
      Object.entries(req.headers).flatMap(([k, v]) => (typeof v === 'string' ? [[k, v]] : [])),
    );
    const query = Object.fromEntries(url.searchParams);
    const expected = eventBridgeSignature(
      eventBridgeStringToSign({ method: req.method ?? 'POST', path: url.pathname, query, headers }),
      secret,
    );
    if (expected !== auth.signature) return [403, 'SignatureDoesNotMatch', 'the signature does not match'];
    const date = Date.parse(header(req, 'date'));
    const t = now();
    if (!Number.isFinite(date) || Math.abs(t - date) > ACS_MAX_SKEW_MS)
      return [403, 'InvalidTimeStamp', 'the Date header is missing or more than 15 minutes off'];
    const nonce = header(req, 'x-acs-signature-nonce');
    if (!nonce) return [403, 'MissingSignatureNonce', 'x-acs-signature-nonce is required'];
    if (nonces.has(nonce, t)) return [403, 'SignatureNonceUsed', 'this signature nonce was already used'];
    nonces.remember(nonce, date + ACS_MAX_SKEW_MS);
    return undefined;
  };

  const route = (event: unknown, index: number): Entry => {
    if (event === null || typeof event !== 'object' || Array.isArray(event))
      return { EventId: '', ErrorCode: 'InvalidArgument', ErrorMessage: `event ${index} is not an object` };
    const e = event as Record<string, unknown>;
    const id = typeof e['id'] === 'string' ? e['id'] : '';
    const missing = ['id', 'source', 'type', 'specversion'].filter((k) => typeof e[k] !== 'string' || e[k] === '');
    if (missing.length > 0)
      return { EventId: id, ErrorCode: 'InvalidArgument', ErrorMessage: `missing ${missing.join(', ')}` };
    if (e['aliyuneventbusname'] !== options.rule.busName)
      return {
        EventId: id,
        ErrorCode: 'EventBusNotExist',
        ErrorMessage: `the event bus ${String(e['aliyuneventbusname']).slice(0, 64)} does not exist`,
      };
    const traceId = randomUUID();
    // An event no rule matches is accepted and goes nowhere, as on EventBridge.
    if (options.rule.sources.includes(e['source'] as string))
      options.deliver(options.rule.functionName, Buffer.from(stringifyExact(event)), id);
    return { EventId: id, TraceId: traceId };
  };

  return async function putEvents(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    const refused = checkHead(req, url);
    if (refused) return refusal(res, ...refused);
    const body = await readBody(req, MAX_BODY);
    let events: unknown;
    try {
      events = parseJsonExact(body.toString('utf8'));
    } catch (err) {
      if (!(err instanceof JsonSyntaxError)) throw err;
      return refusal(res, 400, 'InvalidArgument', 'the body must be a JSON array of CloudEvents');
    }
    if (!Array.isArray(events) || events.length === 0)
      return refusal(res, 400, 'InvalidArgument', 'the body must be a non-empty JSON array of CloudEvents');
    const entries = events.map(route);
    sendJson(
      res,
      200,
      JSON.stringify({
        RequestId: randomUUID(),
        FailedEntryCount: entries.filter((e) => e.ErrorCode !== undefined).length,
        EntryList: entries,
      }),
    );
  };
}

export type PutEventsHandler = ReturnType<typeof createPutEvents>;
