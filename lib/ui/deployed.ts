/*
 * The operations page as its own function, coupon-ops, behind the HTTP trigger's `function` auth: it reads the
 * store and budget ledger the send functions write and asks GetCouponPage with the runtime role's credentials.
 * It never sends: reconcile only records what GetCouponPage proves. A function of its own, so nothing of the page
 * is loaded by a send.
 */
import { randomBytes } from 'node:crypto';
import type { MiddlewareObj } from '@middy/core';
import type { Config, Env } from '../config.js';
import { credentialSource } from '../credentials.js';
import { AppError } from '../errors.js';
import type { FcContext } from '../fc.js';
import { memoryLedgerOfProcess, type BudgetLedger } from '../guardrails/ledger.js';
import { redisBudgetLedger } from '../guardrails/redis-ledger.js';
import { createHttpTransport } from '../http/transport.js';
import { memoryStoreOfProcess } from '../idempotency/memory.js';
import { redisCampaignStore } from '../campaigns/redis-store.js';
import { redisIdempotencyStore } from '../idempotency/redis.js';
import { campaignReader } from './campaigns.js';
import type { IdempotencyStore } from '../idempotency/types.js';
import { createLogger, type Logger } from '../log.js';
import { storeRecords } from '../operations/read.js';
import { connectRedis, type RedisClient } from '../redis/connect.js';
import { createResellerTradeClient, type ResellerTradeClient } from '../resellertrade/client.js';
import { getCouponPage } from '../resellertrade/coupon-page.js';
import { parseHttpEvent, type FcHttpResponse, type HttpRequestView } from '../triggers/http-event.js';
import { BASE } from './views.js';
import { operationsPage, type CampaignReader, type PageAnswer, type PageDeps } from './page.js';
import { pageSettings } from './settings.js';

/** Shared by every instance, so a form served by one instance is accepted by another. */
export const FORM_SECRET_KEY = 'coupon:ui~form-secret';

interface Instance {
  deps: Omit<PageDeps, 'openLookup' | 'origin'>;
  client: ResellerTradeClient;
  config: Config;
}

export interface DeployedPage {
  logger: Logger;
  answer(event: unknown, context: FcContext): Promise<FcHttpResponse>;
}

const toFc = (page: PageAnswer): FcHttpResponse => ({
  statusCode: page.status,
  headers: page.headers,
  isBase64Encoded: false,
  body: page.body,
});

const plain = (status: number, text: string): FcHttpResponse => ({
  statusCode: status,
  headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' },
  isBase64Encoded: false,
  body: `${text}\n`,
});

/** The form secret every instance shares: the first instance's random one, kept in the store. */
async function sharedSecret(redis: RedisClient): Promise<Buffer> {
  await redis.call('SET', FORM_SECRET_KEY, randomBytes(32).toString('hex'), 'NX', { retrySafe: true });
  const stored = await redis.call('GET', FORM_SECRET_KEY, { retrySafe: true });
  if (typeof stored !== 'string' || !/^[0-9a-f]{64}$/.test(stored))
    throw new AppError(500, 'StoreUnavailable', `${FORM_SECRET_KEY} in the store is not 64 hex digits`);
  return Buffer.from(stored, 'hex');
}

interface Stores {
  store: IdempotencyStore;
  ledger: BudgetLedger;
  secret: Buffer;
  campaigns?: CampaignReader;
}

async function openStores(config: Config): Promise<Stores> {
  if (config.store.kind !== 'redis')
    return { store: memoryStoreOfProcess(), ledger: memoryLedgerOfProcess(), secret: randomBytes(32) };
  const redis = await connectRedis(config.store.url);
  return {
    store: redisIdempotencyStore(redis, undefined, config.redisWait),
    ledger: redisBudgetLedger(redis, undefined, config.redisWait),
    secret: await sharedSecret(redis),
    campaigns: campaignReader(redisCampaignStore(redis)),
  };
}

/** FC's queryParameters (several values of one key arrive joined by commas): only strings are taken. */
function queryOf(event: Buffer): Record<string, string> {
  // parseHttpEvent has checked that the payload is a JSON object.
  const parsed = JSON.parse(event.toString('utf8')) as { queryParameters?: unknown };
  const raw = parsed.queryParameters;
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw))
    throw new AppError(
      400,
      'InvalidEvent',
      'The invocation payload is not a valid FC HTTP trigger event: queryParameters must be an object of strings.',
    );
  return Object.fromEntries(Object.entries(raw).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

/**
 * The page's own origin, for the reconcile form's same-origin check: the trigger's address as the caller reached
 * it, from the Host header FC passes on (HTTPS unless the front end says the request came over HTTP).
 */
export function originOf(request: HttpRequestView): string {
  const host = request.headers['host'];
  if (!host || !/^[A-Za-z0-9.-]+(:[0-9]{1,5})?$/.test(host)) return '';
  const scheme = request.headers['x-forwarded-proto'] === 'http' ? 'http' : 'https';
  return `${scheme}://${host}`;
}

/** The page as coupon-ops serves it: the store opens on the first request and is kept by the instance. */
export function deployedOperationsPage(env: Env): DeployedPage {
  const settings = pageSettings(env);
  const logger = createLogger(settings.config?.logLevel ?? 'info', { function: env['FC_FUNCTION_NAME'] });
  if (settings.problem)
    logger.error('invalid configuration: the page answers 500 until it is fixed', { problems: settings.problem });
  let instance: Promise<Instance> | undefined;

  const open = async (config: Config): Promise<Instance> => {
    const { store, ledger, secret, campaigns } = await openStores(config);
    return {
      config,
      client: createResellerTradeClient(config.endpoint, createHttpTransport({ logger })),
      deps: {
        records: storeRecords(store),
        budget: { ledger, ...settings.budget },
        reconcile: settings.reconcile,
        secret,
        ...(campaigns ? { campaigns } : {}),
      },
    };
  };
  const instanceOf = (): Promise<Instance> => {
    const config = settings.config;
    if (!config)
      return Promise.reject(new AppError(500, 'InvalidConfiguration', settings.problem ?? 'invalid configuration'));
    // A failed connection is tried again by the next request, not kept.
    instance ??= open(config).catch((err: unknown) => {
      instance = undefined;
      throw err;
    });
    return instance;
  };

  return {
    logger,
    async answer(event, context) {
      const bytes = typeof event === 'string' ? Buffer.from(event, 'utf8') : event;
      if (!Buffer.isBuffer(bytes))
        throw new AppError(400, 'InvalidEvent', 'The invocation payload is not a valid FC HTTP trigger event.');
      const request = parseHttpEvent(bytes);
      if (request.path !== BASE && !request.path.startsWith(`${BASE}/`))
        return plain(404, `Not found: the operations page is at ${BASE}`);
      const url = new URL('http://page.invalid');
      url.pathname = request.path;
      for (const [name, value] of Object.entries(queryOf(bytes))) url.searchParams.set(name, value);
      const { deps, client, config } = await instanceOf();
      const credentials = credentialSource(context, env);
      const page = await operationsPage(
        { method: request.method, url, headers: request.headers, body: request.body },
        {
          ...deps,
          origin: originOf(request),
          openLookup: () => (query) => getCouponPage(client, query, credentials(), config.upstreamTimeoutMs),
        },
      );
      return page ? toFc(page) : plain(404, `Not found: the operations page is at ${BASE}`);
    },
  };
}

/** One log line per request; an error answers its status and safe message (an AppError's) or a bare 500. */
export function pageAnswer(logger: Logger): MiddlewareObj<unknown, FcHttpResponse, Error, FcContext> {
  const log = (request: { context: FcContext }, fields: Record<string, unknown>) =>
    logger.child({ requestId: request.context.requestId }).info('answered', fields);
  return {
    name: 'pageAnswer',
    after: (request) => {
      log(request, { status: request.response?.statusCode });
    },
    onError: (request) => {
      const error = request.error;
      if (error instanceof AppError) {
        log(request, { status: error.status, Code: error.code });
        request.response = plain(error.status, `${error.code}: ${error.message}`);
        return;
      }
      logger
        .child({ requestId: request.context.requestId })
        .error('unhandled error', { error: error?.message, name: error?.name });
      request.response = plain(500, 'InternalError: the page could not be shown; nothing was recorded or sent.');
    },
  };
}
