import { ConfigError, loadConfig, type Env } from '../lib/config.js';
import { AppError } from '../lib/errors.js';
import { JsonSyntaxError, parseJsonExact } from '../lib/json.js';
import type { Operation } from '../lib/operation.js';
import { decodeSendRequest } from '../lib/request/decode.js';
import { chunkRequestId } from '../lib/resellertrade/form.js';
import { chunkCount } from '../lib/send/results.js';
import { EXIT, UsageError } from './exit.js';
import { table, uidFor, type Output } from './print.js';
import { inline } from './terminal.js';

/** DRY_RUN in the command's environment: honoured (true, 1) or off (false, 0, empty); anything else is refused. */
export function dryRunFromEnv(env: Env): boolean {
  const raw = env['DRY_RUN']?.trim().toLowerCase();
  if (raw === undefined || raw === '' || raw === 'false' || raw === '0') return false;
  if (raw === 'true' || raw === '1') return true;
  throw new UsageError(`DRY_RUN must be true or false (got "${inline(raw.slice(0, 20))}")`);
}

function limitsOf(env: Env) {
  try {
    return loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message);
    throw err;
  }
}

/**
 * `coupon send --dry-run`: the request is decoded and validated here exactly as the function does it (forms,
 * fields, amounts, this environment's SELLER_ID, FROM_APP, MAX_COUPON_AMOUNT, MAX_RECIPIENTS), and the upstream
 * calls it would make are shown. Nothing is sent anywhere: no store, no budget, no upstream.
 */
export function dryRunSend(body: string, env: Env, output: Output): number {
  const config = limitsOf(env);
  let value: unknown;
  try {
    value = parseJsonExact(body);
  } catch (err) {
    if (!(err instanceof JsonSyntaxError)) throw err;
    return refused(output, [`the request is not JSON: ${err.message}`]);
  }
  let items;
  try {
    items = decodeSendRequest(value, config, { kind: 'required' }).items;
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    return refused(output, problemsOf(err));
  }
  const views = items.map((item) =>
    'operation' in item
      ? viewOf(item.operation, config.chunkSize, output)
      : { requestId: item.ref.requestId, problems: problemsOf(item.error) },
  );
  if (output.json) {
    output.out(JSON.stringify({ dryRun: true, operations: views }));
  } else {
    output.note('dry run: the request was checked as the function checks it; nothing was sent');
    for (const v of views) {
      if ('problems' in v) {
        output.out(`${inline(v.requestId ?? '(no RequestId)')}: refused: ${v.problems.map(inline).join('; ')}`);
        continue;
      }
      output.out(
        `${inline(v.RequestId)}: seller ${v.SellerId}, template ${v.TemplateId}, from ${inline(v.FromApp)}: ${v.chunks.length} SendCoupon call(s): ${v.chunks.join(', ')}`,
      );
      output.out(
        table(
          ['uid', 'amount', 'status'],
          v.recipients.map((r) => [r.uid, r.amount, r.status]),
        ),
      );
    }
  }
  return views.some((v) => 'problems' in v) ? EXIT.failed : EXIT.ok;
}

function viewOf(op: Operation, chunkSize: number, output: Output) {
  const count = chunkCount(op, chunkSize);
  return {
    RequestId: op.requestId,
    SellerId: op.sellerId.digits,
    TemplateId: op.templateId.digits,
    FromApp: op.fromApp,
    chunks: Array.from({ length: count }, (_, i) => chunkRequestId(op.requestId, i + 1, count)),
    recipients: op.recipients.map((r) => ({
      uid: uidFor(output, r.uid.digits),
      amount: r.amountText,
      status: 'DRY_RUN',
    })),
  };
}

function problemsOf(err: AppError): string[] {
  const listed = (err.errors ?? []).map((e) => `${e.path || '(the request)'}: ${e.message}`);
  return listed.length > 0 ? listed : [`${err.code}: ${err.message}`];
}

function refused(output: Output, problems: string[]): number {
  if (output.json) output.out(JSON.stringify({ dryRun: true, refused: problems }));
  else output.out(`dry run: the request would be refused: ${problems.map(inline).join('; ')}`);
  return EXIT.failed;
}
