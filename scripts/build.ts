/**
 * `npm run build`: per function, dist/<function>/ holds exactly what `s deploy` uploads: `index.mjs` (handler
 * `index.handler`), a small loader; `bundle.cjs`, the minified bundle; `bundle.cache`, its V8 code cache (see
 * scripts/code-cache.ts). The schemas are compiled first, so a build never ships stale validators.
 */
import { builtinModules } from 'node:module';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { compileSchemas, generatedPath } from './compile-schemas.js';
import { copyCaBundle } from './ca-bundle.js';
import { assertLoadable, writeCodeCaches } from './code-cache.js';

import { FUNCTIONS } from '../functions/manifest.js';

export { FUNCTIONS };

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * Start-up trimming: modules that middy imports at load time but that these functions never run (its
 * streamed-response support) are replaced by the small shims in scripts/shims/, which keep the same behaviour
 * should the code path ever be taken, loading the real module then.
 */
const BARE_BUILTIN = new RegExp(`^(${builtinModules.filter((m) => !m.startsWith('_')).join('|')})(/.*)?$`);

const coldStartShims: Plugin = {
  name: 'cold-start-shims',
  setup(b) {
    const shim = (file: string) => ({ path: `${root}/scripts/shims/${file}` });
    b.onResolve({ filter: /^node:stream\/web$/ }, (args) =>
      args.importer.includes('@middy/core') ? shim('stream-web.js') : undefined,
    );
    b.onResolve({ filter: /^proxy-agent$/ }, () => shim('proxy-agent.js'));
    // ali-oss's dependencies name built-ins without `node:`; the loader only lets `node:` ids through.
    b.onResolve({ filter: BARE_BUILTIN }, (args) => ({ path: `node:${args.path}`, external: true }));
    b.onResolve({ filter: /^node:stream\/promises$/ }, (args) =>
      args.importer.includes('@middy/core') ? shim('stream-promises.js') : undefined,
    );
  },
};

/**
 * Packages only the campaign functions may hold: ali-oss and the FC SDK are loaded by campaigns alone, so a
 * send function's bundle, and its cold start, never carry them.
 */
const CAMPAIGN_ONLY = [
  'node_modules/ali-oss/',
  'node_modules/@alicloud/fc20230330/',
  'node_modules/@alicloud/openapi-core/',
];
const isCampaignFunction = (name: string) => name.startsWith('coupon-campaign');

/**
 * Packages that ali-oss's dependencies ask for only inside try/catch, or only name in a message (any-promise's
 * hint): without them the code takes its fallback, so the loader's require failing for them is expected.
 */
const OPTIONAL_REQUIRES = new Set([
  'supports-color',
  'ringo/engine',
  'any-promise',
  'any-promise/register',
  'any-promise/register/bluebird',
  'bufferutil',
  'utf-8-validate',
  'graceful-fs',
  // lodash asks `module.require("util")` inside try/catch; the module object it names is not the loader's.
  'util',
]);

/** assertLoadable, with the optional requires of the campaign functions' libraries allowed. */
function assertFunctionLoadable(name: string, code: string): void {
  if (!isCampaignFunction(name)) return assertLoadable(name, code);
  assertLoadable(
    name,
    code.replace(/\brequire\("([^"]+)"\)/g, (all, id: string) => (OPTIONAL_REQUIRES.has(id) ? '' : all)),
  );
}

/** The inputs of a send function's bundle that only a campaign function may hold. */
export function campaignOnlyInputs(name: string, inputs: readonly string[]): string[] {
  if (isCampaignFunction(name)) return [];
  return inputs.filter((p) => CAMPAIGN_ONLY.some((pkg) => p.includes(pkg)));
}

/**
 * Builds every function into `outDir` (default dist/); returns each bundle's size in bytes. `caFile` (default:
 * COUPON_REDIS_CA_FILE) is a CA bundle copied into each function's folder for a `rediss://` store.
 */
export async function buildAll(
  outDir = `${root}/dist`,
  caFile = process.env['COUPON_REDIS_CA_FILE'] || undefined,
): Promise<Record<string, { bundle: number; cache: number }>> {
  const validators = compileSchemas();
  // Written only when it changed: a build running beside the tests must not rewrite a file they import.
  if (!existsSync(generatedPath) || readFileSync(generatedPath, 'utf8') !== validators)
    writeFileSync(generatedPath, validators);
  rmSync(outDir, { recursive: true, force: true });
  for (const [name, entry] of Object.entries(FUNCTIONS)) {
    const outfile = `${outDir}/${name}/bundle.cjs`;
    mkdirSync(`${outDir}/${name}`, { recursive: true });
    const result = await build({
      entryPoints: [`${root}/${entry}`],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      // import() inside a vm.Script needs a loader callback; as require() it needs nothing.
      supported: { 'dynamic-import': false },
      minify: process.env['BUILD_NO_MINIFY'] !== '1',
      charset: 'ascii',
      sourcemap: false,
      legalComments: 'none',
      metafile: true,
      logLevel: 'warning',
      plugins: [coldStartShims],
    });
    const inputs = Object.keys(result.metafile.inputs);
    const leaked = inputs.filter((p) => p.startsWith('local/') || p.startsWith('test/') || p.startsWith('bench/'));
    if (leaked.length > 0) throw new Error(`${name} bundles files that must never ship: ${leaked.join(', ')}`);
    const campaignOnly = campaignOnlyInputs(name, inputs);
    if (campaignOnly.length > 0)
      throw new Error(
        `${name} is a send function but bundles campaign-only packages: ${campaignOnly.slice(0, 5).join(', ')}`,
      );
    assertFunctionLoadable(name, readFileSync(outfile, 'latin1'));
  }
  // Trains each bundle's code cache, then writes its loader (index.mjs), which records both files' digests.
  await writeCodeCaches(outDir);
  if (caFile)
    copyCaBundle(
      caFile,
      Object.keys(FUNCTIONS).map((name) => `${outDir}/${name}`),
    );
  const size = (name: string, file: string) => statSync(`${outDir}/${name}/${file}`).size;
  return Object.fromEntries(
    Object.keys(FUNCTIONS).map((name) => [
      name,
      { bundle: size(name, 'bundle.cjs'), cache: size(name, 'bundle.cache') },
    ]),
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const sizes = await buildAll();
  for (const [name, size] of Object.entries(sizes))
    console.log(
      `dist/${name}/  bundle.cjs ${(size.bundle / 1024).toFixed(1)} KiB, bundle.cache ${(size.cache / 1024).toFixed(1)} KiB`,
    );
}
