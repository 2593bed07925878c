/**
 * `npm run deploy [-- --check]`: refuses a shell that lacks what s.yaml reads (naming each variable), then builds
 * dist/ and runs Serverless Devs' `s deploy` on s.yaml. `--check` stops after the check.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { buildAll } from './build.js';
import { deployProblems } from './deploy-env.js';

const root = fileURLToPath(new URL('..', import.meta.url));

const problems = deployProblems(process.env);
if (problems.length > 0) {
  process.stderr.write(
    `npm run deploy: not deployed, nothing was built or uploaded:\n${problems.map((p) => `  - ${p}`).join('\n')}\n` +
      'See docs/deploy.md for where each value comes from.\n',
  );
  process.exit(2);
}
if (process.env['DRY_RUN'] !== 'true')
  process.stderr.write(
    'npm run deploy: DRY_RUN is not true: once deployed, every accepted request issues real coupons.\n',
  );
if (process.argv.includes('--check')) {
  process.stdout.write('npm run deploy --check: every variable s.yaml needs is set and valid.\n');
  process.exit(0);
}
await buildAll();
const s = spawnSync(`${root}node_modules/.bin/s`, ['deploy', '-t', 's.yaml', '-y'], { cwd: root, stdio: 'inherit' });
process.exit(s.status ?? 1);
