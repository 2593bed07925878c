import { setTimeout as sleep } from 'node:timers/promises';
import type { Env } from '../lib/config.js';
import { fromCents } from '../lib/guardrails/cents.js';
import { chunkResultsKey } from '../lib/campaigns/results.js';
import {
  campaignTarget,
  codeOf,
  controlCampaign,
  getCampaign,
  messageOf,
  startCampaignCall,
  type CampaignTarget,
} from './campaign-api.js';
import { CAMPAIGN_HELP, parseCampaignArgs, type CampaignArgs } from './campaign-args.js';
import { bucketSettings, openCampaignBucket } from './campaign-bucket.js';
import { checkCampaignId, checkList, derivedCampaignId, listKey, localEtaSeconds } from './campaign-list.js';
import {
  duration,
  exitForProgress,
  invalidLinesText,
  isFinished,
  progressBar,
  progressJson,
  readResultLine,
  reconcileCommand,
  resultJson,
  resultsTable,
  statusLine,
  statusText,
  type Progress,
} from './campaign-view.js';
import { CallError, EXIT, UsageError } from './exit.js';
import { uidFor, type Io, type Output } from './print.js';
import { inline } from './terminal.js';

const ID = /^[1-9][0-9]{0,18}$/;
const SHOWN_INVALID = 50;
/** Polls of --watch that may fail in a row (a restarting stack, a dropped connection) before it gives up. */
const WATCH_RETRIES = 5;

/** `coupon campaign …`: the whole command, from its arguments to its exit status. */
export async function campaign(argv: readonly string[], env: Env, io: Io): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    io.out(CAMPAIGN_HELP.main);
    return argv.length === 0 ? EXIT.usage : EXIT.ok;
  }
  const args = parseCampaignArgs(argv);
  if (args.help) {
    io.out(CAMPAIGN_HELP[args.action]);
    return EXIT.ok;
  }
  const output: Output = { ...io, json: args.json, showUids: args.showUids };
  const target = campaignTarget(args.url, env);
  if (args.action === 'start') return start(args, target, env, output);
  const id = checkCampaignId(args.id ?? '', 'the campaign id');
  if (args.action === 'status') return status(id, args, target, output);
  if (args.action === 'results') return results(id, target, env, output);
  return control(id, args.action, target, output);
}

function hints(p: Progress, output: Output): void {
  const id = inline(p.campaignId);
  if (p.unknown > 0)
    output.note(
      `${id}: ${p.unknown} outcomes are UNKNOWN (they may hold a coupon); coupon campaign results ${id} lists them with the coupon reconcile command of each chunk`,
    );
  else if (p.failed > 0) output.note(`${id}: ${p.failed} recipients FAILED; coupon campaign results ${id} shows why`);
  if (!isFinished(p.state)) output.note(`${id}: not finished; coupon campaign status ${id} --watch follows it`);
}

async function start(args: CampaignArgs, target: CampaignTarget, env: Env, output: Output): Promise<number> {
  const template = args.template ?? '';
  if (!ID.test(template))
    throw new UsageError(`--template must be a template id (got "${inline(template.slice(0, 64))}")`);
  const seller = args.seller ?? (env['SELLER_ID'] || undefined);
  if (seller !== undefined && !ID.test(seller))
    throw new UsageError(`--seller must be a seller id (got "${inline(seller.slice(0, 64))}")`);
  const fromApp = args.fromApp ?? (env['FROM_APP'] || undefined);
  const file = args.file ?? '';
  const campaignId = args.campaignId === undefined ? undefined : checkCampaignId(args.campaignId);

  output.progress?.(0, 1, `checking ${file}`);
  const { bytes, plan } = await checkList(file, env);
  const blank = plan.blankLines > 0 ? `, ${plan.blankLines} blank` : '';
  output.note(
    `${inline(file)}: ${plan.format.toUpperCase()}, ${plan.lines} lines${blank}; ${plan.total} recipients totalling ${fromCents(plan.totalCents)} in ${plan.chunks} chunks; ${plan.invalidCount} invalid lines`,
  );
  if (plan.invalidCount > 0) {
    const shown = plan.invalidLines.slice(0, SHOWN_INVALID);
    output.note(invalidLinesText(shown).join('\n'));
    if (plan.invalidCount > shown.length) output.note(`  … and ${plan.invalidCount - shown.length} more invalid lines`);
    if (!args.skipInvalid) {
      output.note(
        'nothing was uploaded or started: correct these lines, or start with --skip-invalid to send the valid ones only',
      );
      return EXIT.usage;
    }
    output.note('--skip-invalid: these lines are never sent');
  }
  if (plan.total === 0) throw new UsageError(`--file ${inline(file)} holds no valid recipient: nothing to start`);
  const eta = localEtaSeconds(plan.total, env);
  if (eta !== undefined) output.note(`ETA at UPSTREAM_QPS=${env['UPSTREAM_QPS']?.trim()}: ${duration(eta)}`);

  const id =
    campaignId ??
    derivedCampaignId(plan.sha256, {
      template,
      ...(seller === undefined ? {} : { seller }),
      ...(fromApp === undefined ? {} : { fromApp }),
    });
  const settings = bucketSettings(env, target.local);
  const key = listKey(plan);
  output.progress?.(0, 1, `uploading ${plan.bytes} bytes to ${settings.bucket}/${key}`);
  await (await openCampaignBucket(settings)).put(key, bytes);
  output.progress?.(1, 1, 'uploaded');

  const answer = await startCampaignCall(target, {
    CampaignId: id,
    TemplateId: template,
    ...(seller === undefined ? {} : { SellerId: seller }),
    ...(fromApp === undefined ? {} : { FromApp: fromApp }),
    Bucket: settings.bucket,
    Key: key,
  });
  if (answer.kind === 'no-route')
    throw new CallError(
      `${target.base.origin} has no campaign routes (POST /campaigns answered ${answer.answer.status}); nothing was started`,
    );
  if (answer.kind === 'refused') {
    const a = answer.answer;
    const code = codeOf(a);
    output.note(`${inline(id)}: refused (${inline(code)}): ${messageOf(a)}`);
    const lines = readInvalidLines(a.body['invalidLines']);
    if (lines.length > 0) output.note(invalidLinesText(lines.slice(0, SHOWN_INVALID)).join('\n'));
    output.note(`nothing was started; the list stays in the bucket at ${settings.bucket}/${key}`);
    if (code === 'IdempotencyKeyReused')
      output.note(`campaign ${inline(id)} was started with another list: choose another --campaign-id`);
    return a.status === 400 || code === 'IdempotencyKeyReused' ? EXIT.usage : EXIT.failed;
  }
  const p = answer.progress;
  output.out(output.json ? progressJson(p) : p.campaignId);
  output.note(
    answer.kind === 'existing'
      ? `${inline(p.campaignId)}: already started with this list (nothing started twice); ${statusLine(p)}`
      : `${inline(p.campaignId)}: started; ${statusLine(p)}`,
  );
  output.note(`follow it: coupon campaign status ${inline(p.campaignId)} --watch`);
  return EXIT.ok;
}

function readInvalidLines(value: unknown): Array<{ line: number; problem: string }> {
  if (!Array.isArray(value)) return [];
  return value.flatMap((l: unknown) => {
    const o = (l ?? {}) as Record<string, unknown>;
    return typeof o['line'] === 'number' && typeof o['problem'] === 'string'
      ? [{ line: o['line'], problem: o['problem'] }]
      : [];
  });
}

/** The counts and state that make a watch line change; the ETA moves on every poll and does not count. */
const watchKey = (p: Progress) => [p.state, p.total, p.planned, p.sent, p.failed, p.unknown, p.pending].join(',');

async function watch(id: string, args: CampaignArgs, target: CampaignTarget, output: Output): Promise<Progress> {
  let last = '';
  let failures = 0;
  for (;;) {
    let p: Progress;
    try {
      p = await getCampaign(target, id);
      failures = 0;
    } catch (err) {
      if (!(err instanceof CallError) || ++failures >= WATCH_RETRIES) throw err;
      output.note(`${err.message}; trying again (${failures} of ${WATCH_RETRIES - 1})`);
      await sleep(args.intervalSeconds * 1000);
      continue;
    }
    if (isFinished(p.state)) return p;
    if (output.progress) {
      const bar = progressBar(p);
      output.progress(bar.done, bar.total, bar.label);
    } else if (watchKey(p) !== last) {
      last = watchKey(p);
      output.note(statusLine(p));
    }
    await sleep(args.intervalSeconds * 1000);
  }
}

async function status(id: string, args: CampaignArgs, target: CampaignTarget, output: Output): Promise<number> {
  const p = args.watch ? await watch(id, args, target, output) : await getCampaign(target, id);
  output.out(output.json ? progressJson(p) : statusText(p));
  hints(p, output);
  return exitForProgress(p);
}

async function control(
  id: string,
  action: 'pause' | 'resume' | 'cancel',
  target: CampaignTarget,
  output: Output,
): Promise<number> {
  const answer = await controlCampaign(target, id, action);
  if (!answer.ok) {
    output.note(`${inline(id)}: ${action} refused (${inline(codeOf(answer.answer))}): ${messageOf(answer.answer)}`);
    return EXIT.failed;
  }
  output.out(output.json ? progressJson(answer.progress) : statusLine(answer.progress));
  return EXIT.ok;
}

const SHOWN_RECONCILE = 20;

async function results(id: string, target: CampaignTarget, env: Env, output: Output): Promise<number> {
  const p = await getCampaign(target, id);
  const settings = bucketSettings(env, target.local);
  const bucket = await openCampaignBucket(settings);
  // The prefix of chunk 0's key is where every chunk's results file lies (lib/campaigns/results.ts names them).
  const prefix = chunkResultsKey(settings.resultsPrefix, id, 0).replace(/[^/]*$/, '');
  const files = (await bucket.list(prefix))
    .map((key) => ({ key, n: Number(/(\d+)\.jsonl$/.exec(key)?.[1] ?? NaN) }))
    .filter((f) => Number.isSafeInteger(f.n) && f.n > 0)
    .sort((a, b) => a.n - b.n);
  const table = resultsTable(id, files.at(-1)?.n ?? 1);
  if (!output.json) output.out(table.header);
  const counts = { SENT: 0, FAILED: 0, UNKNOWN: 0 };
  const unknownChunks: number[] = [];
  let malformed = 0;
  for (const { key, n } of files) {
    const requestId = `${id}:${n}`;
    const text = (await bucket.get(key)).toString('utf8');
    const rows: string[] = [];
    let unknownHere = false;
    for (const [i, line] of text.split('\n').entries()) {
      if (line.trim() === '') continue;
      const r = readResultLine(line, requestId);
      if ('problem' in r) {
        malformed += 1;
        output.note(`${inline(key)} line ${i + 1} cannot be read: ${r.problem}`);
        continue;
      }
      counts[r.status] += 1;
      if (r.status === 'UNKNOWN') unknownHere = true;
      const uid = uidFor(output, r.uid);
      rows.push(output.json ? resultJson(r, uid, id, n) : table.row(r, uid, n));
    }
    if (unknownHere) unknownChunks.push(n);
    if (rows.length > 0) output.out(rows.join('\n'));
  }
  const read = counts.SENT + counts.FAILED + counts.UNKNOWN;
  output.note(
    `${inline(id)}: ${p.state}; ${read} results in ${files.length} files (sent ${counts.SENT}, failed ${counts.FAILED}, unknown ${counts.UNKNOWN}) of ${p.total} recipients`,
  );
  const counted = p.sent + p.failed + p.unknown;
  if (read < counted)
    output.note(
      `${counted - read} counted outcomes have no results line yet: a chunk's file is written as it finishes`,
    );
  for (const n of unknownChunks.slice(0, SHOWN_RECONCILE)) output.note(`settle chunk ${n}: ${reconcileCommand(id, n)}`);
  if (unknownChunks.length > SHOWN_RECONCILE)
    output.note(`… and ${unknownChunks.length - SHOWN_RECONCILE} more chunks with UNKNOWN recipients`);
  if (malformed > 0) return EXIT.usage;
  const fromProgress = exitForProgress(p);
  if (counts.UNKNOWN > 0 || fromProgress === EXIT.unknown) return EXIT.unknown;
  if (counts.FAILED > 0 || fromProgress === EXIT.failed) return EXIT.failed;
  return EXIT.ok;
}
