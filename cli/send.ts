import { readFileSync } from 'node:fs';
import type { Env } from '../lib/config.js';
import { readAnswer, type OperationLine } from './answers.js';
import { dryRunFromEnv, dryRunSend } from './dry-run.js';
import { EXIT, exitForStatuses, UsageError } from './exit.js';
import { table, uidFor, type Output } from './print.js';
import { deliver, targetOf, type TargetOptions } from './target.js';
import { inline } from './terminal.js';

export interface SendOptions extends TargetOptions {
  file?: string;
  template?: string;
  seller?: string;
  'from-app'?: string;
  'request-id'?: string;
  uid?: string[];
  bid?: string;
  operator?: string;
  'dry-run'?: boolean;
}

const ID = /^[1-9][0-9]{0,18}$/;
const AMOUNT = /^\d+(\.\d+)?([eE][+-]?\d+)?$/;

/**
 * The flat request the flags describe, as JSON text: ids go as strings of digits and amounts as the numbers
 * typed, so nothing is rounded on the way. Validation itself is the function's.
 */
export function requestFromFlags(o: SendOptions, env: Env): string {
  const requestId = o['request-id'];
  if (!requestId)
    throw new UsageError('--request-id is required: it names the operation, and sending it again never issues twice');
  if (!o.template || !ID.test(o.template)) throw new UsageError('--template must be a template id');
  if (!o.uid || o.uid.length === 0) throw new UsageError('give at least one --uid UID:AMOUNT');
  const list = o.uid.map((pair) => {
    const [uid = '', amount = ''] = pair.split(':');
    if (!ID.test(uid) || !AMOUNT.test(amount))
      throw new UsageError(`--uid takes UID:AMOUNT, such as 1918000000883:8.88 (got "${pair.slice(0, 64)}")`);
    return `{"uid": ${JSON.stringify(uid)}, "amount": ${amount}}`;
  });
  const fields: string[] = [`"TemplateId": ${JSON.stringify(o.template)}`, `"RequestId": ${JSON.stringify(requestId)}`];
  const seller = o.seller ?? env['SELLER_ID'];
  if (seller) fields.push(`"SellerId": ${JSON.stringify(seller)}`);
  const fromApp = o['from-app'] ?? env['FROM_APP'];
  if (fromApp) fields.push(`"FromApp": ${JSON.stringify(fromApp)}`);
  if (o.bid) fields.push(`"Bid": ${JSON.stringify(o.bid)}`);
  if (o.operator) fields.push(`"Operator": ${JSON.stringify(o.operator)}`);
  fields.push(`"userAmountModelList": [${list.join(', ')}]`);
  return `{${fields.join(', ')}}`;
}

/** The request's JSON text: the file (`-` for stdin), or the flags. */
export function bodyOf(o: SendOptions, env: Env): string {
  if (o.file === undefined) return requestFromFlags(o, env);
  try {
    return readFileSync(o.file === '-' ? 0 : o.file, 'utf8');
  } catch (err) {
    const code = err instanceof Error && 'code' in err ? String(err.code) : 'unreadable';
    throw new UsageError(`--file ${inline(o.file.slice(0, 200))} cannot be read (${inline(code)})`);
  }
}

export async function send(o: SendOptions, env: Env, output: Output): Promise<number> {
  if (o.file !== undefined && (o.template !== undefined || o.uid !== undefined)) {
    throw new UsageError('give --file or the request flags, not both');
  }
  const fromEnv = dryRunFromEnv(env);
  const body = bodyOf(o, env);
  if (o['dry-run'] || fromEnv) {
    if (!o['dry-run']) output.note('DRY_RUN is set: this is a dry run (unset DRY_RUN to send)');
    return dryRunSend(body, env, output);
  }
  const target = targetOf(o, env);
  output.progress?.(0, 1, `sending to ${target.kind === 'function' ? target.url.href : target.base.href}`);
  const answer = await deliver(target, body);
  output.progress?.(1, 1, 'answered');
  if (answer.async !== undefined) {
    output.out(
      output.json
        ? JSON.stringify({ accepted: answer.status === 202, invocationId: answer.async })
        : `accepted: FC invocation ${inline(answer.async)}; its outcome goes to the function's logs and on-failure destination`,
    );
    return answer.status === 202 ? EXIT.ok : EXIT.failed;
  }
  const operations = readAnswer(answer.text);
  if (answer.replayed)
    output.note(
      'replayed (Idempotent-Replayed): this RequestId was sent before; the stored answer is shown and nothing was sent now',
    );
  if (output.json) {
    output.out(answer.text);
  } else {
    for (const op of operations)
      output.out(
        `${inline(op.requestId || '(no RequestId)')}: ${inline(op.code)} ${inline(op.message)}${answer.replayed ? ' (replayed)' : ''}`,
      );
    const rows = operations.flatMap((op) =>
      op.recipients.map((r) => [
        r.requestId,
        uidFor(output, r.uid),
        r.amount,
        r.status,
        r.youhuiId ?? '',
        r.code ?? '',
      ]),
    );
    if (rows.length > 0) output.out(table(['RequestId', 'uid', 'amount', 'status', 'youhuiId', 'Code'], rows));
    else if (operations.length === 0) output.out(answer.text);
  }
  const authCode = /Signature|AccessKey|Authorization|Nonce|Forbidden/i.test(operations[0]?.code ?? '');
  if (answer.status === 401 || (answer.status === 403 && authCode))
    output.note(
      'the target refused the caller: set LOCAL_CALLER_KEYS as the local stack has it, or ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET for a deployment, then run the same coupon send again',
    );
  hints(operations, output);
  if (operations.some((op) => op.code === 'RequestInProgress')) return EXIT.unknown;
  return exitForStatuses(
    operations.flatMap((op) => (op.recipients.length > 0 ? op.recipients.map((r) => r.status) : ['FAILED'])),
  );
}

/** For each operation that needs a next step, the command that takes it. */
function hints(operations: readonly OperationLine[], output: Output): void {
  for (const op of operations) {
    const id = inline(op.requestId);
    if (op.code === 'RequestInProgress') {
      output.note(`${id}: another delivery is sending it now; run coupon status --request-id ${id} to follow it`);
    } else if (op.recipients.some((r) => r.status === 'UNKNOWN')) {
      output.note(
        `${id}: some outcomes are UNKNOWN (they may hold a coupon); run coupon reconcile --request-id ${id} to settle them with GetCouponPage`,
      );
    } else if (op.recipients.some((r) => r.status === 'FAILED') && op.requestId) {
      output.note(
        `${id}: some recipients were not sent; run coupon status --request-id ${id} for why. Sending the same request again sends only what is still owed`,
      );
    }
  }
}
