import { describe, expect, it } from 'vitest';
import * as OpenApiUtilModule from '@alicloud/openapi-util';
import { buildSendCouponForm, chunkRequestId } from '../../../lib/resellertrade/form.js';
import type { Operation } from '../../../lib/operation.js';
import { recipient } from '../../fixtures/operations.js';

// CommonJS default export: the class is on `.default` whichever way the loader wraps it.
const OpenApiUtil = (OpenApiUtilModule as unknown as { default: { toForm(v: unknown): string } }).default;

describe('SendCoupon form body', () => {
  const op: Operation = {
    sellerId: { digits: '1530000004157', kind: 'number' },
    templateId: { digits: '2900006632', kind: 'string' },
    requestId: 'req-123',
    fromApp: "app with space*!'()~中",
    bid: { digits: '26842', kind: 'number' },
    operator: '12345',
    form: 'flat',
    recipients: [recipient('1918000000883', 100, 'number'), recipient('12345678901234567890', 50.5, 'string')],
  };

  it('is byte for byte what the official SDK (OpenApiUtil.toForm) builds', () => {
    const sdk = OpenApiUtil.toForm({
      SellerId: '1530000004157',
      TemplateId: '2900006632',
      RequestId: 'req-123',
      FromApp: "app with space*!'()~中",
      Bid: '26842',
      Operator: '12345',
      UserAmountModelList: [
        { Uid: '1918000000883', Amount: 100 },
        { Uid: '12345678901234567890', Amount: 50.5 },
      ],
    });
    expect(buildSendCouponForm(op, op.recipients, 'req-123')).toBe(sdk);
  });

  it('matches the V3-C reference body', () => {
    const simple: Operation = {
      ...op,
      fromApp: 'test-app',
      templateId: { digits: '2900006632', kind: 'number' },
      recipients: [op.recipients[0]!],
    };
    delete simple.bid;
    delete simple.operator;
    expect(buildSendCouponForm(simple, simple.recipients, 'req-123')).toBe(
      'SellerId=1530000004157&TemplateId=2900006632&RequestId=req-123&FromApp=test-app&UserAmountModelList.1.Uid=1918000000883&UserAmountModelList.1.Amount=100',
    );
  });

  it('names chunk RequestIds <RequestId>-<n> only when the operation is split', () => {
    expect(chunkRequestId('op', 1, 1)).toBe('op');
    expect(chunkRequestId('op', 2, 3)).toBe('op-2');
  });
});
