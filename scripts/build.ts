/**
 * `npm run build`: one minified ESM bundle per function in dist/<function>/index.mjs, exactly what `s deploy`
 * uploads (handler `index.handler`). The schemas are compiled first, so a build never ships stale validators.
 */
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { compileSchemas, generatedPath } from './compile-schemas.js';

export const FUNCTIONS = { 'coupon-http': 'functions/http.ts', 'coupon-event': 'functions/event.ts', 'coupon-timer': 'functions/timer.ts' } as const;

const root = fileURLToPath(new URL('..', import.meta.url));

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
