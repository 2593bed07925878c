import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../lib/config.js';
import { createLogger } from '../../../lib/log.js';
import { sendRequestValidator } from '../../../lib/middleware/validator.js';
import type { Invocation, PipelineRequest, ValidatedDelivery } from '../../../lib/pipeline.js';

/** A request value whose reading fails: stands for any fault of ours while judging one delivery's content. */
function unreadable(): Record<string, unknown> {
  const value: Record<string, unknown> = {};
  Object.defineProperty(value, 'param', {
    enumerable: true,
    get() {
      throw new Error('boom');
    },
  });
  return value;
}

describe('sendRequestValidator', () => {
  it('answers a delivery it cannot judge in its place (500, nothing sent) and still validates its siblings', async () => {
    const logs: string[] = [];
    const invocation = {
      trigger: 'event',
      logger: createLogger('debug', {}, (l) => logs.push(l)),
      runtime: { config: loadConfig({}) },
    } as unknown as Invocation;
    const good = {
      SellerId: 1,
      TemplateId: 2,
      RequestId: 'sibling-1',
      FromApp: 'a',
      userAmountModelList: [{ uid: 3, amount: 1 }],
    };
    const request = {
      event: {
        stage: 'received',
        deliveries: [
          { value: unreadable(), rule: { kind: 'required' }, label: { eventId: 'bad' } },
          { value: good, rule: { kind: 'required' }, label: { eventId: 'good' } },
        ],
      },
      internal: { invocation },
    } as unknown as PipelineRequest;
    const before = sendRequestValidator().before;
    if (!before) throw new Error('no before hook');
    await before(request);
    const deliveries = (request.event as { deliveries: ValidatedDelivery[] }).deliveries;
    expect(deliveries[0]).toMatchObject({ error: { status: 500, code: 'InternalError' } });
    expect(deliveries[1]).toMatchObject({ batch: false, items: [{ operation: { requestId: 'sibling-1' } }] });
    expect(logs.some((l) => l.includes('"level":"error"') && l.includes('InternalError'))).toBe(true);
  });
});
