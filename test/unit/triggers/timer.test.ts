import { describe, expect, it } from 'vitest';
import { decodeTimer, isRfc3339 } from '../../../lib/triggers/timer.js';
import { eventBytes, loadEvent } from '../../events/load.js';

const timer = loadEvent('timer');

describe('timer events', () => {
  it('decodes the captured firing with its triggerName and triggerTime as the rule', () => {
    const d = decodeTimer(eventBytes(timer));
    expect('rule' in d && d.rule).toEqual({
      kind: 'timer',
      triggerName: 'nightly-campaign',
      triggerTime: '2026-11-29T16:00:00Z',
    });
  });

  it.each([
    ['triggerTime not a time', { ...timer, triggerTime: 'not-a-time' }, ['/triggerTime']],
    ['triggerTime a number', { ...timer, triggerTime: 1 }, ['/triggerTime']],
    ['no triggerTime and no payload', { triggerName: 't' }, ['/triggerTime', '/payload']],
    ['an empty triggerName', { ...timer, triggerName: '' }, ['/triggerName']],
    ['a payload that is not JSON', { ...timer, payload: '{' }, ['/payload']],
  ])('refuses a firing with %s', (_name, event, paths) => {
    const d = decodeTimer(eventBytes(event));
    expect('refused' in d && d.refused.errors?.map((e) => e.path)).toEqual(paths);
  });

  it.each([
    ['2026-11-29T16:00:00Z', true],
    ['2026-11-29t16:00:00.123z', true],
    ['2026-11-29T16:00:00+08:00', true],
    ['2026-11-29 16:00:00Z', true],
    ['2026-12-31T23:59:60Z', true],
    ['2026-11-29T16:00:00', false],
    ['2026-13-01T00:00:00Z', false],
    ['2026-11-32T00:00:00Z', false],
    ['2026-11-29T24:00:00Z', false],
    ['not-a-time', false],
    ['', false],
  ])('isRfc3339(%s) is %s', (text, ok) => {
    expect(isRfc3339(text)).toBe(ok);
  });
});
