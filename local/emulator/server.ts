import http from 'node:http';
import { randomUUID } from 'node:crypto';
import {
  ACS3_ALGORITHM,
  ACS3_ALWAYS_SIGNED,
  ACS_HEADER,
  ACS_MAX_SKEW_MS,
  RESELLERTRADE_API_VERSION,
} from '../../lib/acs/constants.js';
import { rawNumber, stringifyExact } from '../../lib/json.js';
import { NonceWindow } from '../auth/nonce-window.js';
import { verifyV1, type V1VerifyResult } from '../auth/v1.js';
import { verifyV3, type V3VerifyResult } from '../auth/verify-v3.js';
import { BodyTimeout, BodyTooLarge, hardenServer, readBody, sendJson } from '../http-io.js';
import { FaultQueue, parseFault, type Fault } from './faults.js';
import { Ledger } from './ledger.js';
import { BusiestSecond, TokenBucket } from './rate.js';
import { listen } from '../listen.js';

export interface EmulatorOptions {
  host?: string;
  port?: number;
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
  qps?: number;
  latencyMs?: number;
  /** `sdk`: `Data[]{Uid, YouhuiId, …}` as the generated SDK models it; `doc`: `userAmountModelList[]` as the documentation shows. */
  responseShape?: 'sdk' | 'doc';
  firstYouhuiId?: bigint;
}

export interface EmulatorStats {
  calls: number;
  sendCoupon: number;
  accepted: number;
  throttled: number;
  rejected: number;
  faults: number;
  /** SendCoupon calls in the busiest second (sliding), throttled ones included: what the quota saw. */
  maxCallsInAnySecond: number;
  /** With `?byRequestId=1`: SendCoupon calls per upstream RequestId (a resend shows as more than one). */
  byRequestId?: Record<string, { calls: number; accepted: number; throttled: number }>;
}

type Counters = Omit<EmulatorStats, 'maxCallsInAnySecond' | 'byRequestId'>;
const ZERO: Counters = { calls: 0, sendCoupon: 0, accepted: 0, throttled: 0, rejected: 0, faults: 0 };

export interface Emulator {
  url: string;
  port: number;
  ledger: Ledger;
  stats(): EmulatorStats;
  close(): Promise<void>;
}

const HOST_ID = 'resellertrade.aliyuncs.com';
const MAX_BODY = 4 * 1024 * 1024;
/** What an RPC call must sign: the ACS3 minimum plus the action and version it names. */
const RPC_SIGNED = [...ACS3_ALWAYS_SIGNED, ACS_HEADER.action, ACS_HEADER.version];

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** A failed signature check as the gateway answers it: 404 unknown key, 400 incomplete, 403 mismatch. */
function refuseUnless(verdict: V1VerifyResult | V3VerifyResult): void {
  if (verdict.ok) return;
  const status =
    verdict.code === 'InvalidAccessKeyId.NotFound' ? 404 : verdict.code === 'IncompleteSignature' ? 400 : 403;
  throw new ApiError(status, verdict.code, verdict.message);
}

function params(search: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of search) out[k] = v;
  return out;
}

/**
 * A ResellerTrade 2019-12-27 stand-in that behaves like the real gateway where it matters to us: it verifies
 * ACS3 and V1 signatures with lib/'s verifiers, rejects stale timestamps and reused nonces, answers in
 * Alibaba's error shape, throttles above EMULATOR_QPS, and never deduplicates: every accepted call issues.
 */
export async function startEmulator(options: EmulatorOptions): Promise<Emulator> {
  const ledger = new Ledger(options.firstYouhuiId ?? 18338n);
  const faults = new FaultQueue();
  const nonces = new NonceWindow();
  const bucket = options.qps ? new TokenBucket(options.qps) : undefined;
  // One bucket and one count for every caller: the quota is the seller's, however many instances call.
  const stats: Counters = { ...ZERO };
  const busiest = new BusiestSecond();
  const byRequestId = new Map<string, { calls: number; accepted: number; throttled: number }>();
  const countFor = (requestId: string | undefined) => {
    const key = requestId ?? '';
    let entry = byRequestId.get(key);
    if (!entry) byRequestId.set(key, (entry = { calls: 0, accepted: 0, throttled: 0 }));
    return entry;
  };
  const snapshot = (withRequestIds: boolean): EmulatorStats => ({
    ...stats,
    maxCallsInAnySecond: busiest.max,
    ...(withRequestIds ? { byRequestId: Object.fromEntries(byRequestId) } : {}),
  });
  const timers = new Set<NodeJS.Timeout>();
  const shape = options.responseShape ?? 'sdk';

  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };
  const lookupSecret = (id: string) => (id === options.accessKeyId ? options.accessKeySecret : undefined);

  // Every answer carries x-acs-request-id, as the real service's do.
  const send = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const requestId = (body as { RequestId?: unknown } | null)?.RequestId;
    const id = typeof requestId === 'string' ? requestId : randomUUID().toUpperCase();
    sendJson(res, status, typeof body === 'string' ? body : stringifyExact(body), {
      [ACS_HEADER.requestId]: id,
      ...headers,
    });
  };
  const sendError = (res: http.ServerResponse, err: ApiError, headers: Record<string, string> = {}) => {
    const requestId = randomUUID().toUpperCase();
    send(
      res,
      err.status,
      {
        RequestId: requestId,
        HostId: HOST_ID,
        Code: err.code,
        Message: err.message,
        Recommend: `https://api.aliyun.com/troubleshoot?q=${encodeURIComponent(err.code)}&product=ResellerTrade&requestId=${requestId}`,
      },
      headers,
    );
  };

  const authenticate = (
    req: http.IncomingMessage,
    url: URL,
    body: Buffer,
  ): { action: string; params: Record<string, string> } => {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
    const query = params(url.searchParams);
    const isForm = (headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
    const form = isForm ? params(new URLSearchParams(body.toString('utf8'))) : {};
    let action: string | undefined;
    let version: string | undefined;
    let timestamp: string | undefined;
    let nonce: string | undefined;
    let token: string | undefined;
    if ((headers['authorization'] ?? '').startsWith('ACS3-')) {
      if (!headers['authorization']?.startsWith(`${ACS3_ALGORITHM} `))
        throw new ApiError(400, 'UnsupportedSignatureAlgorithm', `Only ${ACS3_ALGORITHM} is supported.`);
      const request = { method: req.method ?? 'POST', pathname: url.pathname, query, headers, body };
      refuseUnless(verifyV3(request, lookupSecret, RPC_SIGNED));
      action = headers[ACS_HEADER.action];
      version = headers[ACS_HEADER.version];
      timestamp = headers[ACS_HEADER.date];
      nonce = headers[ACS_HEADER.nonce];
      token = headers[ACS_HEADER.securityToken];
    } else if (query['Signature'] !== undefined) {
      const all = { ...query, ...form };
      refuseUnless(verifyV1(req.method ?? 'POST', all, lookupSecret));
      action = all['Action'];
      version = all['Version'];
      timestamp = all['Timestamp'];
      nonce = all['SignatureNonce'];
      token = all['SecurityToken'];
    } else {
      throw new ApiError(
        400,
        'IncompleteSignature',
        'The request is not signed (no ACS3 Authorization header and no V1 Signature parameter).',
      );
    }
    if (options.securityToken !== undefined && token !== options.securityToken) {
      throw new ApiError(
        400,
        'InvalidSecurityToken.MismatchWithAccessKey',
        'The security token does not match the access key.',
      );
    }
    const at = timestamp && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(timestamp) ? Date.parse(timestamp) : NaN;
    if (Number.isNaN(at))
      throw new ApiError(400, 'InvalidTimeStamp.Format', 'The timestamp must be yyyy-MM-ddTHH:mm:ssZ (UTC).');
    if (Math.abs(Date.now() - at) > ACS_MAX_SKEW_MS)
      throw new ApiError(
        400,
        'InvalidTimeStamp.Expired',
        'The timestamp is more than 15 minutes away from the server time.',
      );
    if (!nonce) throw new ApiError(400, 'MissingSignatureNonce', 'SignatureNonce is required.');
    // Kept until the request's own date leaves the window: one dated ahead must not replay once its nonce is gone.
    if (nonces.has(nonce, Date.now()))
      throw new ApiError(400, 'SignatureNonceUsed', 'The request signature nonce has been used.');
    nonces.remember(nonce, at + ACS_MAX_SKEW_MS);
    if (version !== RESELLERTRADE_API_VERSION)
      throw new ApiError(
        400,
        'InvalidVersion',
        `Specified parameter Version is not valid (expected ${RESELLERTRADE_API_VERSION}).`,
      );
    if (!action) throw new ApiError(400, 'MissingAction', 'Action is required.');
    return { action, params: { ...query, ...form } };
  };

  const sendCoupon = (p: Record<string, string>) => {
    const required = ['SellerId', 'TemplateId', 'RequestId', 'FromApp'];
    for (const name of required)
      if (!p[name])
        throw new ApiError(
          400,
          'MissingParameter',
          `The input parameter ${name} that is mandatory for processing this request is not supplied.`,
        );
    for (const name of ['SellerId', 'TemplateId'])
      if (!/^\d{1,20}$/.test(p[name] ?? ''))
        throw new ApiError(400, 'InvalidParameter', `The parameter ${name} is invalid.`);
    const items: Array<{ uid: string; amount: number }> = [];
    for (
      let n = 1;
      p[`UserAmountModelList.${n}.Uid`] !== undefined || p[`UserAmountModelList.${n}.Amount`] !== undefined;
      n++
    ) {
      const uid = p[`UserAmountModelList.${n}.Uid`] ?? '';
      const amount = Number(p[`UserAmountModelList.${n}.Amount`]);
      if (!/^\d{1,20}$/.test(uid))
        throw new ApiError(400, 'InvalidParameter', `The parameter UserAmountModelList.${n}.Uid is invalid.`);
      if (!Number.isFinite(amount) || amount <= 0)
        throw new ApiError(400, 'InvalidParameter', `The parameter UserAmountModelList.${n}.Amount is invalid.`);
      items.push({ uid, amount });
    }
    if (items.length === 0)
      throw new ApiError(400, 'MissingParameter', 'UserAmountModelList must hold at least one entry.');
    const issued = items.map((i) =>
      ledger.issue({
        sellerId: p['SellerId'] ?? '',
        templateId: p['TemplateId'] ?? '',
        uid: i.uid,
        amount: i.amount,
        requestId: p['RequestId'] ?? '',
        fromApp: p['FromApp'] ?? '',
      }),
    );
    const common = { RequestId: p['RequestId'], Success: true, Code: 'success', Message: 'success' };
    if (shape === 'doc') {
      return {
        ...common,
        userAmountModelList: issued.map((c) => ({
          amount: c.amount,
          uid: rawNumber(c.uid),
          youhuiId: rawNumber(c.youhuiId),
        })),
      };
    }
    return {
      ...common,
      Count: issued.length,
      TotalCount: issued.length,
      Data: issued.map((c) => ({
        Uid: rawNumber(c.uid),
        UserId: rawNumber(c.uid),
        Amount: c.amount,
        YouhuiId: rawNumber(c.youhuiId),
      })),
    };
  };

  const getCouponPage = (p: Record<string, string>) => {
    if (!p['SellerId'])
      throw new ApiError(
        400,
        'MissingParameter',
        'The input parameter SellerId that is mandatory for processing this request is not supplied.',
      );
    const uids = new Set(
      Object.entries(p)
        .filter(([k]) => /^Uids\.\d+$/.test(k))
        .map(([, v]) => v),
    );
    const pageNo = Math.max(1, Number(p['PageNo'] ?? 1) || 1);
    const pageSize = Math.min(100, Math.max(1, Number(p['PageSize'] ?? 20) || 20));
    const matching = ledger
      .list()
      .filter(
        (c) =>
          c.sellerId === p['SellerId'] &&
          (!p['TemplateId'] || c.templateId === p['TemplateId']) &&
          (uids.size === 0 || uids.has(c.uid)),
      );
    const page = matching.slice((pageNo - 1) * pageSize, pageNo * pageSize);
    return {
      RequestId: randomUUID().toUpperCase(),
      Success: true,
      Code: 'success',
      Message: 'success',
      Data: {
        PageNo: pageNo,
        PageSize: pageSize,
        Total: matching.length,
        List: page.map((c) => ({
          YouhuiId: rawNumber(c.youhuiId),
          Uid: rawNumber(c.uid),
          TemplateId: rawNumber(c.templateId),
          Amount: c.amount,
          RequestId: c.requestId,
          FromApp: c.fromApp,
          GmtCreate: c.createdAt,
        })),
      },
    };
  };

  const applyFault = (fault: Fault, res: http.ServerResponse, p: Record<string, string>): void => {
    stats.faults += 1;
    const headers = fault.headers ?? {};
    switch (fault.mode) {
      case 'throttle':
        return sendError(
          res,
          new ApiError(
            fault.status ?? 400,
            fault.code ?? 'Throttling.User',
            'Request was denied due to user flow control.',
          ),
          headers,
        );
      case 'error':
        return sendError(
          res,
          new ApiError(
            fault.status ?? 503,
            fault.code ?? (fault.status === 500 ? 'InternalError' : 'ServiceUnavailable'),
            'The request has failed due to a temporary failure of the server.',
          ),
          headers,
        );
      case 'respond':
        if (fault.issue !== false) sendCoupon(p);
        return send(res, fault.status ?? 200, fault.body ?? '', headers);
      case 'business-error':
        if (fault.status !== undefined && fault.status !== 200) {
          return sendError(
            res,
            new ApiError(
              fault.status,
              fault.code ?? 'COUPON_TEMPLATE_INVALID',
              'The coupon template cannot issue coupons.',
            ),
          );
        }
        return send(res, 200, {
          RequestId: p['RequestId'],
          Success: false,
          Code: fault.code ?? 'COUPON_TEMPLATE_INVALID',
          Message: 'The coupon template cannot issue coupons.',
        });
      case 'timeout-before':
        return later(fault.delayMs ?? 60_000, () => res.destroy());
      case 'timeout-after': {
        const body = sendCoupon(p);
        return later(fault.delayMs ?? 60_000, () => send(res, 200, body));
      }
    }
  };

  const handleRpc = async (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => {
    const body = await readBody(req, MAX_BODY);
    const { action, params: p } = authenticate(req, url, body);
    if (action === 'SendCoupon') {
      stats.sendCoupon += 1;
      busiest.record();
      const counts = countFor(p['RequestId']);
      counts.calls += 1;
      if (bucket && !bucket.tryTake()) {
        stats.throttled += 1;
        counts.throttled += 1;
        throw new ApiError(400, 'Throttling.User', 'Request was denied due to user flow control.');
      }
      const fault = faults.take();
      if (fault) return applyFault(fault, res, p);
      const answer = sendCoupon(p);
      stats.accepted += 1;
      counts.accepted += 1;
      return send(res, 200, answer);
    }
    if (action === 'GetCouponPage') return send(res, 200, getCouponPage(p));
    throw new ApiError(404, 'InvalidAction.NotFound', `Specified api ${action} is not found.`);
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://emulator');
    } catch {
      return sendError(res, new ApiError(400, 'InvalidUrl', 'The request target is not a valid URL.'));
    }
    if (url.pathname === '/__emulator/coupons' && req.method === 'GET')
      return send(res, 200, { coupons: ledger.list() });
    if (url.pathname === '/__emulator/stats' && req.method === 'GET')
      return send(res, 200, snapshot(url.searchParams.get('byRequestId') === '1'));
    if (url.pathname === '/__emulator/reset' && req.method === 'POST') {
      ledger.reset();
      faults.reset();
      nonces.clear();
      bucket?.reset();
      Object.assign(stats, ZERO);
      busiest.reset();
      byRequestId.clear();
      return send(res, 200, { ok: true });
    }
    if (url.pathname === '/__emulator/faults' && req.method === 'POST') {
      let value: unknown;
      try {
        value = JSON.parse((await readBody(req, MAX_BODY)).toString('utf8'));
      } catch {
        return send(res, 400, { Code: 'InvalidJson', Message: 'The body must be JSON.' });
      }
      const fault = parseFault(value);
      if (Array.isArray(fault)) return send(res, 400, { Code: 'InvalidFault', Message: fault.join('; ') });
      faults.push(fault);
      return send(res, 200, { ok: true, queued: fault });
    }
    if (url.pathname !== '/' || req.method !== 'POST')
      return sendError(res, new ApiError(404, 'InvalidApi.NotFound', 'RPC calls are POST / .'));
    stats.calls += 1;
    if (options.latencyMs) await new Promise<void>((resolve) => later(options.latencyMs ?? 0, resolve));
    try {
      await handleRpc(req, res, url);
    } catch (err) {
      if (err instanceof BodyTooLarge) return sendError(res, new ApiError(413, 'RequestTooLarge', err.message));
      if (err instanceof BodyTimeout) return sendError(res, new ApiError(408, 'RequestTimeout', err.message));
      stats.rejected += err instanceof ApiError && err.code !== 'Throttling.User' ? 1 : 0;
      sendError(
        res,
        err instanceof ApiError
          ? err
          : new ApiError(500, 'InternalError', 'The request processing has failed due to some unknown error.'),
      );
    }
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch(() =>
      sendError(
        res,
        new ApiError(500, 'InternalError', 'The request processing has failed due to some unknown error.'),
      ),
    );
  });
  hardenServer(server);
  const listening = await listen(server, options.host ?? '127.0.0.1', options.port ?? 0);
  return {
    url: listening.url,
    port: listening.port,
    ledger,
    stats: () => snapshot(false),
    close: async () => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await listening.close();
    },
  };
}
