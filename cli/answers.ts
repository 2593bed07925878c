import { jsonText, parseJsonExact } from '../lib/json.js';

/** One recipient line of an answer, as the command shows it. */
export interface RecipientLine {
  requestId: string;
  uid: string;
  amount: string;
  status: string;
  youhuiId?: string;
  code?: string;
}

export interface OperationLine {
  requestId: string;
  code: string;
  message: string;
  recipients: RecipientLine[];
}

type Json = Record<string, unknown>;
const text = jsonText;
const isJson = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

function operationLine(answer: Json): OperationLine {
  const requestId = text(answer['RequestId'] ?? answer['requestId']) ?? '';
  const param = isJson(answer['param']) ? answer['param'] : answer;
  const list = Array.isArray(param['userAmountModelList']) ? param['userAmountModelList'] : [];
  return {
    requestId,
    code: text(answer['Code']) ?? '',
    message: text(answer['Message']) ?? '',
    recipients: list.filter(isJson).map((r) => ({
      requestId,
      uid: text(r['uid']) ?? '',
      amount: text(r['amount']) ?? '',
      status: text(r['status']) ?? '',
      ...(text(r['youhuiId']) === undefined ? {} : { youhuiId: text(r['youhuiId']) as string }),
      ...(text(r['Code']) === undefined ? {} : { code: text(r['Code']) as string }),
    })),
  };
}

/** The operations of an answer (one, or a batch's array), read exactly: coupon ids keep every digit. */
export function readAnswer(body: string): OperationLine[] {
  let parsed: unknown;
  try {
    parsed = parseJsonExact(body);
  } catch {
    return [{ requestId: '', code: 'InvalidAnswer', message: body.slice(0, 200), recipients: [] }];
  }
  const all = Array.isArray(parsed) ? parsed : [parsed];
  return all.filter(isJson).map(operationLine);
}
