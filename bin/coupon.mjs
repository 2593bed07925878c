#!/usr/bin/env node
// The `coupon` command: runs cli/coupon.ts through tsx (installed by npm ci), so no build step is needed.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/coupon.ts');
const code = await main(process.argv.slice(2), process.env, {
  out: (text) => process.stdout.write(`${text}\n`),
  progress: (text) => process.stderr.write(`${text}\n`),
});
process.exitCode = code;
