/**
 * Cold start without compiling: each function ships its bundle as CommonJS (`bundle.cjs`), a V8 code cache of
 * it (`bundle.cache`) and a small ESM loader (`index.mjs`, FC's `index.handler`) that compiles the bundle with the
 * cache. The cache is made after the bundle has served a few representative invocations in a plain `node`
 * process, so it holds the bytecode of every function those ran, which V8 would otherwise compile lazily, one by
 * one, during the first request. V8 rejects a cache made by another V8 version or with other flags; the loader
 * then compiles from source as usual (and says so in its `codeCache` export), so a stale cache costs time, never
 * correctness. The loader also refuses (`mismatch`) a bundle or cache that is not byte for byte the build's.
 *
 * Which flags FC passes to `node` on nodejs20 could not be established. What was found: FC's own start scripts
 * for its older Node runtimes (`/var/fc/runtime/<runtime>/agent.sh` for nodejs4, 6, 10 and 14_alinode, copies
 * in public code) all run `node --max-old-space-size=$(expr $FC_FUNCTION_MEMORY_SIZE \* 9 / 10)
 * --max-http-header-size=16384 --expose-gc …/bootstrap.js`, while FC's public local-emulation images (github
 * aliyun/fc-docker `nodejs<version>/run/Dockerfile`, up to nodejs16) replace that script with their own, which starts
 * node with `--max-old-space-size=8192`. Neither is about nodejs20. V8 folds its flags and their values into the
 * cache's flag hash (measured on Node 20: a cache trained with --max-old-space-size=1024 is rejected under 2048
 * and without it, --expose-gc likewise; --max-http-header-size is Node's own and changes nothing).
 *
 * So each function gets two caches: `bundle.cache`, trained without flags (what `node` runs locally and in the
 * tests), and `bundle.fc.cache`, trained under the older runtimes' flags with the function's memorySize from
 * s.yaml, which FC's nodejs20 may well keep. The loader takes the one whose flags this process runs with, and
 * each instance logs the flags it was started with (`nodeFlags` in "instance started", lib/runtime.ts) beside
 * `codeCache`, so the first deployment shows FC's real flags. A cache `rejected` there costs the cold start the
 * compilation the cache would have saved, nothing else.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parse } from 'yaml';
import { startEmulator } from '../local/emulator/server.js';
import { startRedis, type RedisServer } from '../test/helpers/redis.js';
import { FUNCTIONS, type FunctionName } from '../functions/manifest.js';
import { CODE_CACHE_STATUS } from '../lib/runtime.js';

/** The bundle runs as the body of this function, as Node runs a CommonJS module. */
export const WRAP_HEAD = '(function (exports, require, module, __filename, __dirname) {';
export const WRAP_TAIL = '\n})';

/** What the loader assumes of a bundle: ASCII (read as latin1), no import() or import.meta, only built-ins required. */
export function assertLoadable(name: string, code: string): void {
  if (/\bimport\(|import\.meta/.test(code))
    throw new Error(`${name}: the bundle uses import() or import.meta, which a vm.Script cannot run`);
  if (/[^\x00-\x7f]/.test(code)) throw new Error(`${name}: the bundle is not ASCII, but its loader reads it as latin1`);
  const required = [...code.matchAll(/\brequire\("([^"]+)"\)/g)].map((m) => m[1] ?? '');
  if (required.some((id) => !id.startsWith('node:')))
    throw new Error(`${name}: the bundle requires a module that is not a Node built-in: ${required.join(', ')}`);
}

/** One trained cache: its file next to the bundle, the node flags it was trained under, and its SHA-256. */
export interface CacheVariant {
  file: string;
  flags: readonly string[];
  digest: string;
}

export const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** The V8 flags FC's older Node runtimes start node with, for a function of this many MB (see above). */
export function fcLikelyFlags(memoryMb: number): string[] {
  return [`--max-old-space-size=${Math.floor((memoryMb * 9) / 10)}`, '--expose-gc'];
}

/**
 * dist/<function>/index.mjs: compiles bundle.cjs with a code cache and exports its handler. V8 checks only that a
 * cache was made by the same V8, with the same flags, for a source of the same length; it neither checks the
 * source's content nor (in release builds) the cache's own checksum, so an edited bundle would run the old
 * bytecode, and a damaged cache could crash or answer wrongly. The loader therefore hands V8 a cache only when it
 * and the bundle are byte for byte what the build made, and otherwise compiles from source. Of several caches it
 * takes the first whose training flags this process runs with (the caches come most specific first).
 */
export function loaderSource(name: FunctionName, bundleDigest: string, caches: readonly CacheVariant[]): string {
  return `// ${name}: FC's entry (index.handler). Runs bundle.cjs, compiled with a V8 code cache made by the build
// when it and the bundle are exactly the build's and this Node accepts it (see scripts/code-cache.ts).
import { createRequire } from 'node:module';
// Every require() in the bundle names a Node built-in: process.getBuiltinModule (Node >= 20.16) is the cheap way
// there; createRequire (0.6 ms) only on an older Node.
let fallback;
const require = (id) => process.getBuiltinModule?.(id) ?? (fallback ??= createRequire(import.meta.url))(id);
const { readFileSync } = require('node:fs');
const { createHash } = require('node:crypto');
const { Script } = require('node:vm');
const { fileURLToPath } = require('node:url');
const file = fileURLToPath(new URL('bundle.cjs', import.meta.url));
const BUNDLE_DIGEST = ${JSON.stringify(bundleDigest)};
const CACHES = ${JSON.stringify(caches)};
const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');
const source = readFileSync(file);
const flags = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\\s+/)];
const chosen = CACHES.find((c) => c.flags.every((f) => flags.includes(f)));
let cachedData;
try {
  if (chosen) cachedData = readFileSync(new URL(chosen.file, import.meta.url));
} catch {
  // No cache next to the bundle: compile from source.
}
/** 'accepted'; 'rejected' (by V8: another V8 or other flags); 'mismatch' (not the build's files); 'absent'. */
let status = cachedData === undefined ? 'absent' : undefined;
if (cachedData !== undefined && (sha256(source) !== BUNDLE_DIGEST || sha256(cachedData) !== chosen.digest)) {
  status = 'mismatch';
  cachedData = undefined;
}
// The build checks the bundle is ASCII, which latin1 reads as a plain copy.
const script = new Script(${JSON.stringify(WRAP_HEAD)} + source.toString('latin1') + ${JSON.stringify(WRAP_TAIL)}, {
  filename: file,
  cachedData,
});
export const codeCache = status ?? (script.cachedDataRejected ? 'rejected' : 'accepted');
// The bundle logs it when its instance starts (lib/runtime.ts, CODE_CACHE_STATUS).
globalThis[Symbol.for(${JSON.stringify(CODE_CACHE_STATUS.description)})] = codeCache;
const module = { exports: {} };
script.runInThisContext()(module.exports, require, module, file, file.slice(0, file.lastIndexOf('/')));
export const handler = module.exports.handler;
`;
}

/** Writes dir/index.mjs for the bundle.cjs and the caches now in dir (most specific flags first), with their digests. */
export function writeLoader(
  dir: string,
  name: FunctionName,
  caches: ReadonlyArray<{ file: string; flags: readonly string[] }>,
): void {
  const digest = (file: string) => sha256(readFileSync(`${dir}/${file}`));
  const variants = caches.map((c) => ({ ...c, digest: digest(c.file) }));
  writeFileSync(`${dir}/index.mjs`, loaderSource(name, digest('bundle.cjs'), variants));
}

/**
 * The training run: the same compilation as the loader's, then a few invocations on the memory store and, when
 * a Redis URL is given, on a second instance of the module using Redis (both instances share the compiled
 * functions, so the cache holds both paths); then the cache of what ran.
 */
const TRAIN = `
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import { Script } from 'node:vm';
const file = process.env.BUNDLE;
const script = new Script(process.env.WRAP_HEAD + readFileSync(file, 'latin1') + process.env.WRAP_TAIL, { filename: file });
const context = JSON.parse(process.env.CONTEXT);
const serve = async (round) => {
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, file.slice(0, file.lastIndexOf('/')));
  for (const event of JSON.parse(process.env.EVENTS)) await module.exports.handler(Buffer.from(event.replaceAll('{round}', process.env.VARIANT + round)), context);
};
await serve('memory');
if (process.env.TRAINING_REDIS) {
  process.env.IDEMPOTENCY_STORE = process.env.TRAINING_REDIS;
  await serve('redis');
}
writeFileSync(process.env.CACHE, script.createCachedData());
process.exit(0);`;

const KEY = { accessKeyId: 'STS.codeCacheTraining', accessKeySecret: 'training-secret', securityToken: 'training' };

const sendRequest = (n: number) => ({
  SellerId: '3944837183',
  TemplateId: '295873',
  RequestId: `code-cache-training-${n}-{round}`,
  FromApp: 'build',
  userAmountModelList: [
    { uid: '1918000000001', amount: 1 },
    { uid: '1918000000002', amount: '2.50' },
  ],
});

const httpEvent = (method: string, path: string, body: string) => ({
  version: 'v1',
  rawPath: path,
  body,
  isBase64Encoded: false,
  headers: { 'Content-Type': 'application/json' },
  queryParameters: {},
  requestContext: { accountId: '1', requestId: 'training', http: { method, path, protocol: 'HTTP/1.1' } },
});

/** What each function serves while it is trained: a send, its replay, and a refused request (the page: itself). */
function trainingEvents(name: FunctionName): string[] {
  // The campaign functions take only their own tasks (a bucket and FC behind them): their cache holds the load.
  if (name.startsWith('coupon-campaign')) return [];
  const events: unknown[] = [];
  if (name === 'coupon-http') {
    const body = JSON.stringify(sendRequest(1));
    events.push(
      httpEvent('POST', '/coupons', body),
      httpEvent('POST', '/coupons', body),
      httpEvent('POST', '/coupons', '{"SellerId":'),
      httpEvent('GET', '/healthz', ''),
    );
  } else if (name === 'coupon-ops') {
    events.push(httpEvent('GET', '/__ui', ''), httpEvent('GET', '/__ui/style.css', ''), httpEvent('GET', '/', ''));
  } else {
    const { RequestId: id, ...data } = sendRequest(2);
    const event =
      name === 'coupon-event'
        ? { id, source: 'build', specversion: '1.0', type: 'coupon.send', data }
        : { triggerTime: new Date().toISOString(), triggerName: id, payload: JSON.stringify(data) };
    events.push(event, event, name === 'coupon-event' ? { ...event, data: {} } : { ...event, payload: '{' });
  }
  return events.map((e) => JSON.stringify(e));
}

function run(flags: readonly string[], env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...flags, '--input-type=module', '-e', TRAIN], {
      env: { PATH: process.env['PATH'] ?? '', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`training exited ${code}: ${err}`))));
  });
}

/** A throwaway redis-server to train the Redis path with, if one can be started here. */
async function trainingRedis(): Promise<RedisServer | undefined> {
  try {
    return await startRedis();
  } catch {
    process.stderr.write('code cache: no redis-server here; the Redis path compiles at its first use instead\n');
    return undefined;
  }
}

/** A function's memorySize in s.yaml, which FC's start script turns into --max-old-space-size. */
function memoryOf(name: FunctionName): number {
  const doc = parse(readFileSync(new URL('../s.yaml', import.meta.url), 'utf8')) as {
    resources?: Record<string, { props?: { memorySize?: unknown } }>;
  };
  const memory = doc.resources?.[name]?.props?.memorySize;
  if (typeof memory !== 'number') throw new Error(`s.yaml gives ${name} no memorySize`);
  return memory;
}

/**
 * Writes each function's caches into dist/<function>/ (bundle.fc.cache under FC's likely flags, bundle.cache
 * under none), each trained against a local emulator, then its loader, index.mjs.
 */
export async function writeCodeCaches(outDir: string): Promise<void> {
  const emulator = await startEmulator({ ...KEY });
  const redis = await trainingRedis();
  const names = Object.keys(FUNCTIONS) as FunctionName[];
  const caches = (name: FunctionName) => [
    { file: 'bundle.fc.cache', flags: fcLikelyFlags(memoryOf(name)) },
    { file: 'bundle.cache', flags: [] },
  ];
  try {
    await Promise.all(
      names.flatMap((name) => {
        const bundle = `${outDir}/${name}/bundle.cjs`;
        if (!existsSync(bundle)) throw new Error(`${bundle} is missing`);
        return caches(name).map(({ file, flags }) =>
          run(flags, {
            BUNDLE: bundle,
            CACHE: `${outDir}/${name}/${file}`,
            VARIANT: file.replace(/\W/g, '-'),
            WRAP_HEAD,
            WRAP_TAIL,
            EVENTS: JSON.stringify(trainingEvents(name)),
            CONTEXT: JSON.stringify({
              requestId: 'training',
              credentials: KEY,
              function: { name, timeout: 60 },
              region: 'cn-hangzhou',
              accountId: '1',
            }),
            RESELLERTRADE_ENDPOINT: emulator.url,
            LOG_LEVEL: 'error',
            ...(redis ? { TRAINING_REDIS: redis.url } : {}),
          }),
        );
      }),
    );
  } finally {
    await Promise.all([emulator.close(), redis?.stop()]);
  }
  // The loaders come last: each records the digests of the bundle and caches it was built with.
  for (const name of names) writeLoader(`${outDir}/${name}`, name, caches(name));
}
