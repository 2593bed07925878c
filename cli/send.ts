import { readFileSync } from 'node:fs';
import type { Env } from '../lib/config.js';
import { exitFor, readAnswer } from './answers.js';
import { table, uidFor, type Output } from './print.js';
import { deliver, targetOf, UsageError, type TargetOptions } from './target.js';

export interface SendOptions extends TargetOptions {
  file?: string;
  template?: string;
  seller?: string;
  'from-app'?: string;
  'request-id'?: string;
  uid?: string[];
  bid?: string;
  operator?: string;
}

const ID = /^[1-9][0-9]{0,18}$/;
const AMOUNT = /^\d+(\.\d+)?([eE][+-]?\d+)?$/;

/**
 * The flat request the flags describe, as JSON text: ids go as strings of digits and amounts as the numbers
 * typed, so nothing is rounded on the way. Validation itself is the function's (CONTRACT §3).
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

export async function send(o: SendOptions, env: Env, output: Output): Promise<number> {
  if (o.file !== undefined && (o.template !== undefined || o.uid !== undefined)) {
    throw new UsageError('give --file or the request flags, not both');
  }
  const body = o.file !== undefined ? readFileSync(o.file, 'utf8') : requestFromFlags(o, env);
  const target = targetOf(o, env);
  output.progress(`sending to ${target.kind === 'function' ? target.url.href : target.base.href}…`);
  const answer = await deliver(target, body);
  if (answer.async !== undefined) {
    output.out(
      output.json
        ? JSON.stringify({ accepted: answer.status === 202, invocationId: answer.async })
        : `accepted: FC invocation ${answer.async}; its outcome goes to the function's logs and on-failure destination`,
    );
    return answer.status === 202 ? 0 : 1;
  }
  const operations = readAnswer(answer.text);
  if (output.json) {
    output.out(answer.text);
  } else {
    for (const op of operations) output.progress(`${op.requestId || '(no RequestId)'}: ${op.code} ${op.message}`);
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
    output.out(
      rows.length > 0 ? table(['RequestId', 'uid', 'amount', 'status', 'youhuiId', 'Code'], rows) : answer.text,
    );
  }
  return answer.status >= 400 && operations.every((o) => o.recipients.length === 0) ? 1 : exitFor(operations);
}
