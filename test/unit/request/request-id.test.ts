import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { deriveRequestId, requestIdFor } from '../../../lib/request/request-id.js';

const sha8 = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 8);

describe('derived RequestIds', () => {
  it.each([
    ['acs:oss/bucket id#1', 'acs:oss_bucket_id_1'],
    [`${'s'.repeat(60)}:${'i'.repeat(20)}`, `${'s'.repeat(55)}.${sha8(`${'s'.repeat(60)}:${'i'.repeat(20)}`)}`],
    [`/c/${'c'.repeat(70)}`, `_c_${'c'.repeat(52)}.${sha8(`_c_${'c'.repeat(70)}`)}`],
  ])('%s → %s', (raw, derived) => {
    expect(deriveRequestId(raw)).toBe(derived);
    expect(derived.length).toBeLessThanOrEqual(64);
  });

  it.each<[string | undefined, Parameters<typeof requestIdFor>[1], number | undefined, string | undefined]>([
    ['own', { kind: 'required' }, undefined, 'own'],
    [undefined, { kind: 'required' }, undefined, undefined],
    [undefined, { kind: 'default', value: 'src:e-9' }, undefined, 'src:e-9'],
    [undefined, { kind: 'default', value: 'src:e-9' }, 1, 'src:e-9:2'],
    [
      'own',
      { kind: 'timer', triggerName: 'nightly', triggerTime: '2026-11-29T16:00:00Z' },
      undefined,
      'own:2026-11-29T16:00:00Z',
    ],
    [
      undefined,
      { kind: 'timer', triggerName: 'nightly', triggerTime: '2026-11-29T16:00:00Z' },
      undefined,
      'nightly:2026-11-29T16:00:00Z',
    ],
  ])('own %s under %j (element %s) → %s', (own, rule, index, expected) => {
    expect(requestIdFor(own, rule, index)).toBe(expected);
  });
});
