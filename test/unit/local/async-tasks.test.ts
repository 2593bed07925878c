import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ASYNC_CONFIG, parseAsyncInvokeConfig } from '../../../local/async-tasks/config.js';
import { AsyncTasks } from '../../../local/async-tasks/tasks.js';

describe('parseAsyncInvokeConfig (s.yaml and PutAsyncInvokeConfig bodies)', () => {
  it.each([
    [{}, DEFAULT_ASYNC_CONFIG],
    [{ maxAsyncRetryAttempts: 0 }, { ...DEFAULT_ASYNC_CONFIG, maxAsyncRetryAttempts: 0 }],
    [
      { maxAsyncRetryAttempts: 8, maxAsyncEventAgeInSeconds: 604800, asyncTask: true },
      { maxAsyncRetryAttempts: 8, maxAsyncEventAgeInSeconds: 604800, asyncTask: true },
    ],
    [
      { destinationConfig: { onFailure: { destination: 'acs:mns:cn-hangzhou:1:/queues/q/messages' } } },
      { ...DEFAULT_ASYNC_CONFIG, onFailure: 'acs:mns:cn-hangzhou:1:/queues/q/messages' },
    ],
  ])('reads %j', (raw, expected) => {
    expect(parseAsyncInvokeConfig(raw)).toEqual(expected);
  });

  it.each([
    [{ maxAsyncRetryAttempts: 9 }, 'maxAsyncRetryAttempts'],
    [{ maxAsyncRetryAttempts: 1.5 }, 'maxAsyncRetryAttempts'],
    [{ maxAsyncRetryAttempts: '3' }, 'maxAsyncRetryAttempts'],
    [{ maxAsyncEventAgeInSeconds: 0 }, 'maxAsyncEventAgeInSeconds'],
    [{ maxAsyncEventAgeInSeconds: 604801 }, 'maxAsyncEventAgeInSeconds'],
    [{ asyncTask: 'yes' }, 'asyncTask'],
    [{ destinationConfig: [] }, 'destinationConfig'],
    [{ destinationConfig: { onFailure: { destination: '' } } }, 'destinationConfig.onFailure.destination'],
    [{ destinationConfig: { onSuccess: 'acs:fc:…' } }, 'destinationConfig.onSuccess.destination'],
    ['3', 'asyncInvokeConfig'],
  ])('refuses %j, naming %s', (raw, field) => {
    expect(parseAsyncInvokeConfig(raw)).toEqual(expect.stringContaining(field));
  });

  it('keeps what a PutAsyncInvokeConfig body leaves out, and drops a destination it sets to nothing', () => {
    const base = { ...DEFAULT_ASYNC_CONFIG, maxAsyncRetryAttempts: 5, onFailure: 'acs:a', onSuccess: 'acs:b' };
    expect(parseAsyncInvokeConfig({ asyncTask: true }, base)).toEqual({ ...base, asyncTask: true });
    expect(parseAsyncInvokeConfig({ destinationConfig: { onSuccess: { destination: 'acs:c' } } }, base)).toEqual({
      ...DEFAULT_ASYNC_CONFIG,
      maxAsyncRetryAttempts: 5,
      onSuccess: 'acs:c',
    });
  });

  it('never throws: any input is a configuration within FC’s ranges or a problem', () => {
    fc.assert(
      fc.property(fc.anything(), (raw) => {
        const out = parseAsyncInvokeConfig(raw);
        if (typeof out === 'string') return;
        expect(out.maxAsyncRetryAttempts).toBeGreaterThanOrEqual(0);
        expect(out.maxAsyncRetryAttempts).toBeLessThanOrEqual(8);
        expect(out.maxAsyncEventAgeInSeconds).toBeGreaterThanOrEqual(1);
        expect(out.maxAsyncEventAgeInSeconds).toBeLessThanOrEqual(604800);
      }),
    );
  });
});

describe('ListAsyncTasks paging', () => {
  it('pages through every matching task exactly once, in order, whatever the page size', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 0, maxLength: 30 }),
        fc.integer({ min: 1, max: 7 }),
        fc.constantFrom('asc' as const, 'desc' as const),
        async (startTimes, limit, sortOrderByTime) => {
          let clock = 0;
          const tasks = new AsyncTasks({
            invoke: async () => ({ kind: 'ok', value: null }),
            contextFor: (name, requestId) => ({ requestId }),
            functionArn: (name) => `acs:fc:cn-hangzhou:1:functions/${name}`,
            configs: {},
            retryDelayMs: 1,
            now: () => clock,
          });
          startTimes.forEach((t, i) => {
            clock = t;
            tasks.submit('f', Buffer.from(''), { requestId: `r${i}`, taskId: `t${i}` });
          });
          tasks.submit('other', Buffer.from(''), { requestId: 'x', taskId: 'x' });
          const seen: string[] = [];
          let nextToken: string | undefined;
          do {
            const page = tasks.list('f', {
              limit,
              sortOrderByTime,
              includePayload: false,
              ...(nextToken ? { nextToken } : {}),
            });
            expect(page.tasks.length).toBeLessThanOrEqual(limit);
            seen.push(...page.tasks.map((t) => t['taskId'] as string));
            nextToken = page.nextToken;
          } while (nextToken);
          const key = (id: string) => [startTimes[Number(id.slice(1))]!, id] as const;
          const expected = startTimes
            .map((_, i) => `t${i}`)
            .sort((a, b) => {
              const [ta, ia] = key(a);
              const [tb, ib] = key(b);
              const d = ta - tb || (ia < ib ? -1 : 1);
              return sortOrderByTime === 'asc' ? d : -d;
            });
          expect(seen).toEqual(expected);
        },
      ),
    );
  });
});
