/** The `coupon` executable's entry: the bundle built from here is bin/coupon.mjs (scripts/build-cli.ts). */
import { main } from './coupon.js';
import { processIo } from './io.js';

process.exitCode = await main(process.argv.slice(2), process.env, processIo(process.stdout, process.stderr));
