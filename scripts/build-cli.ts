/**
 * `npm run build:cli` (also run by `npm ci` through `prepare`): bundles the `coupon` command into one plain
 * JavaScript file, bin/coupon.mjs, the package's `bin`. It needs nothing at run time but Node: no tsx, no
 * TypeScript, no node_modules; only `coupon campaign start` and `results` load `ali-oss`, a dependency of the
 * package. Written to a temporary file and renamed, so a reader never sees half a bundle.
 */
import { chmodSync, renameSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
export const CLI_BUNDLE = `${root}bin/coupon.mjs`;

export async function buildCli(outfile = CLI_BUNDLE): Promise<number> {
  const temp = `${outfile}.${process.pid}.${Date.now()}.tmp`;
  const result = await build({
    entryPoints: [`${root}cli/bin.ts`],
    outfile: temp,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    minify: true,
    charset: 'utf8',
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
    // The OSS client is 700 KiB bundled and would slow every start (coupon --help by ~20 ms) for the two campaign
    // actions that use it; they import it lazily from the package's own dependencies instead.
    external: ['ali-oss'],
    // Bundled CommonJS dependencies may require Node's own modules; an ES module has no `require` of its own.
    banner: {
      js: "#!/usr/bin/env node\nimport { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
  });
  chmodSync(temp, 0o755);
  renameSync(temp, outfile);
  return Object.values(result.metafile.outputs).reduce((sum, o) => sum + o.bytes, 0);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const bytes = await buildCli();
  process.stdout.write(`bin/coupon.mjs: ${Math.round(bytes / 1024)} KiB\n`);
}
