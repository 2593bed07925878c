import { describe, expect, it } from 'vitest';
import { createLogger, MAX_LINE_BYTES } from '../../lib/log.js';

describe('logger', () => {
  it('writes one JSON object per line with bound fields, and redacts secret-looking keys', () => {
    const lines: string[] = [];
    const log = createLogger('info', { requestId: 'fc-1' }, (l) => lines.push(l)).child({
      RequestId: 'op-1',
      trigger: 'http',
    });
    log.debug('hidden');
    log.info('hello', { accessKeySecret: 'x', securityToken: 'y', Authorization: 'z', attempt: 1 });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({
      level: 'info',
      msg: 'hello',
      requestId: 'fc-1',
      RequestId: 'op-1',
      trigger: 'http',
      accessKeySecret: '[redacted]',
      securityToken: '[redacted]',
      Authorization: '[redacted]',
      attempt: 1,
      time: expect.any(String),
    });
  });

  it.each([
    ['one huge string field', { detail: 'x'.repeat(100_000) }],
    ['a long list', { items: Array.from({ length: 5000 }, (_, i) => `item-${i}`) }],
    ['many fields', Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`f${i}`, 'v'.repeat(20)]))],
  ])('never writes a line over 8 KiB (%s), and says it shortened it', (_name, fields) => {
    const lines: string[] = [];
    createLogger('info', { requestId: 'fc-1' }, (l) => lines.push(l)).info('big', fields);
    expect(Buffer.byteLength(lines[0] ?? '')).toBeLessThanOrEqual(MAX_LINE_BYTES);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({ msg: 'big', requestId: 'fc-1', truncated: true });
  });
});
