/**
 * `npm run build`: one minified ESM bundle per function in dist/<function>/index.mjs, exactly what `s deploy`
 * uploads (handler `index.handler`). The schemas are compiled first, so a build never ships stale validators.
 */
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { compileSchemas, generatedPath } from './compile-schemas.js';

export const FUNCTIONS = { 'coupon-http': 'functions/http.ts', 'coupon-event': 'functions/event.ts', 'coupon-timer': 'functions/timer.ts' } as const;

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * Start-up trimming: modules that dependencies import at load time but that these functions never run
 * (middy's streamed-response support, ioredis's debug output) are replaced by the small shims in
 * scripts/shims/, which keep the same behaviour should the code path ever be taken.
 */
const coldStartShims: Plugin = {
  name: 'cold-start-shims',
  setup(b) {
    const shim = (file: string) => ({ path: `${root}/scripts/shims/${file}` });
    b.onResolve({ filter: /^node:stream\/web$/ }, (args) => (args.importer.includes('@middy/core') ? shim('stream-web.js') : undefined));
    b.onResolve({ filter: /^node:stream\/promises$/ }, (args) => (args.importer.includes('@middy/core') ? shim('stream-promises.js') : undefined));
    b.onResolve({ filter: /^debug$/ }, (args) => (args.importer.includes('ioredis') ? shim('debug.cjs') : undefined));
  },
};

export async function buildAll(): Promise<Record<string, number>> {
  writeFileSync(generatedPath, compileSchemas());
  rmSync(`${root}/dist`, { recursive: true, force: true });
  const sizes: Record<string, number> = {};
  for (const [name, entry] of Object.entries(FUNCTIONS)) {
    const outfile = `${root}/dist/${name}/index.mjs`;
    mkdirSync(`${root}/dist/${name}`, { recursive: true });
    const result = await build({
      entryPoints: [`${root}/${entry}`],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      minify: true,
      sourcemap: false,
      legalComments: 'none',
      metafile: true,
      // ioredis is CommonJS and calls require() for Node built-ins; ESM output needs a real require for that.
      banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
      logLevel: 'warning',
      plugins: [coldStartShims],
    });
    const inputs = Object.keys(result.metafile.inputs);
    const leaked = inputs.filter((p) => p.startsWith('local/') || p.startsWith('test/') || p.startsWith('bench/'));
    if (leaked.length > 0) throw new Error(`${name} bundles files that must never ship: ${leaked.join(', ')}`);
    sizes[name] = statSync(outfile).size;
  }
  return sizes;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const sizes = await buildAll();
  for (const [name, size] of Object.entries(sizes)) console.log(`dist/${name}/index.mjs  ${(size / 1024).toFixed(1)} KiB`);
}
