import type { AnswerForm } from '../operation.js';
import { pointer } from './pointer.js';

export type FieldName = 'sellerId' | 'templateId' | 'requestId' | 'fromApp' | 'bid' | 'operator' | 'recipients';

/** Where each field of an operation sits in one request form, as a path of property names. */
type FormLayout = Readonly<Record<FieldName, readonly string[]>>;

const LAYOUTS: Readonly<Record<AnswerForm, FormLayout>> = {
  flat: {
    sellerId: ['SellerId'],
    templateId: ['TemplateId'],
    requestId: ['RequestId'],
    fromApp: ['FromApp'],
    bid: ['Bid'],
    operator: ['Operator'],
    recipients: ['userAmountModelList'],
  },
  envelope: {
    sellerId: ['param', 'sellerId'],
    templateId: ['param', 'templateId'],
    requestId: ['requestId'],
    fromApp: ['fromApp'],
    bid: ['param', 'bid'],
    operator: ['param', 'operator'],
    recipients: ['param', 'userAmountModelList'],
  },
};

export interface Field {
  value: unknown;
  /** JSON Pointer of the field from the root of the whole request. */
  readonly path: string;
}

/** One request (or batch element) read through its form's layout; nothing is judged here. */
export interface RawOperation {
  form: AnswerForm;
  fields: Readonly<Record<FieldName, Field>>;
}

export const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** A body with a `param` property is an envelope (a typo elsewhere must not turn it into a flat request). */
export const formOf = (value: unknown): AnswerForm => (isObject(value) && 'param' in value ? 'envelope' : 'flat');

function at(value: unknown, names: readonly string[]): unknown {
  let v = value;
  for (const name of names) v = isObject(v) ? v[name] : undefined;
  return v;
}

/** A field whose pointer is built only when something asks for it (an error, usually none). */
export class LazyField implements Field {
  constructor(
    readonly value: unknown,
    private readonly base: string,
    private readonly names: ReadonlyArray<string | number>,
  ) {}

  get path(): string {
    return pointer(this.base, ...this.names);
  }
}

export function extract(value: unknown, form: AnswerForm, base: string): RawOperation {
  const layout = LAYOUTS[form];
  const fields = {} as Record<FieldName, Field>;
  for (const name of Object.keys(layout) as FieldName[]) {
    const names = layout[name];
    fields[name] = new LazyField(at(value, names), base, names);
  }
  return { form, fields };
}
