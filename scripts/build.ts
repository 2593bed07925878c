/**
 * `npm run build`: one minified ESM bundle per function in dist/<function>/index.mjs, exactly what `s deploy`
 * uploads (handler `index.handler`). The schemas are compiled first, so a build never ships stale validators.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { compileSchemas, generatedPath } from './compile-schemas.js';

import { FUNCTIONS } from '../functions/manifest.js';

export { FUNCTIONS };

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * Start-up trimming: modules that middy imports at load time but that these functions never run (its
 * streamed-response support) are replaced by the small shims in scripts/shims/, which keep the same behaviour
 * should the code path ever be taken, loading the real module then.
 */
const coldStartShims: Plugin = {
  name: 'cold-start-shims',
  setup(b) {
    const shim = (file: string) => ({ path: `${root}/scripts/shims/${file}` });
    b.onResolve({ filter: /^node:stream\/web$/ }, (args) =>
      args.importer.includes('@middy/core') ? shim('stream-web.js') : undefined,
    );
    b.onResolve({ filter: /^node:stream\/promises$/ }, (args) =>
      args.importer.includes('@middy/core') ? shim('stream-promises.js') : undefined,
    );
  },
};

/** Builds every function into `outDir` (default dist/); returns each bundle's size in bytes. */
export async function buildAll(outDir = `${root}/dist`): Promise<Record<string, number>> {
  const validators = compileSchemas();
  // Written only when it changed: a build running beside the tests must not rewrite a file they import.
  if (!existsSync(generatedPath) || readFileSync(generatedPath, 'utf8') !== validators)
    writeFileSync(generatedPath, validators);
  rmSync(outDir, { recursive: true, force: true });
  const sizes: Record<string, number> = {};
  for (const [name, entry] of Object.entries(FUNCTIONS)) {
    const outfile = `${outDir}/${name}/index.mjs`;
    mkdirSync(`${outDir}/${name}`, { recursive: true });
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
  for (const [name, size] of Object.entries(sizes))
    console.log(`dist/${name}/index.mjs  ${(size / 1024).toFixed(1)} KiB`);
}
