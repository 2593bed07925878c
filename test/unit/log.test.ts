import { describe, expect, it } from 'vitest';
import { createLogger, directLineWriter, MAX_LINE_BYTES } from '../../lib/log.js';

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

  it('writes members in order (time, level, msg, bound, fields), a field that replaces a bound one in its place', () => {
    const lines: string[] = [];
    const log = createLogger('info', { requestId: 'fc-1', trigger: 'http' }, (l) => lines.push(l));
    log.info('plain');
    log.info('with fields', { attempt: 2, skipped: undefined, note: 'é"\n' });
    log.warn('override', { trigger: 'event', msg: 'not the message' });
    const keys = lines.map((l) => Object.keys(JSON.parse(l) as object));
    expect(keys).toEqual([
      ['time', 'level', 'msg', 'requestId', 'trigger'],
      ['time', 'level', 'msg', 'requestId', 'trigger', 'attempt', 'note'],
      ['time', 'level', 'msg', 'requestId', 'trigger'],
    ]);
    expect(JSON.parse(lines[1] ?? '')).toMatchObject({ attempt: 2, note: 'é"\n' });
    expect(JSON.parse(lines[2] ?? '')).toMatchObject({ msg: 'not the message', trigger: 'event', level: 'warn' });
  });

  it('lets a child replace a bound field in its place, and never writes a member twice', () => {
    const lines: string[] = [];
    const root = createLogger('info', { requestId: 'fc-1', trigger: 'http' }, (l) => lines.push(l));
    root.child({ trigger: 'event', RequestId: 'op' }).info('a', { attempt: 1 });
    root.child({ msg: 'bound msg' }).child({ chunk: 2 }).info('b', { level: 'overridden?' });
    const [a, b] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(Object.keys(a ?? {})).toEqual(['time', 'level', 'msg', 'requestId', 'trigger', 'RequestId', 'attempt']);
    expect(a).toMatchObject({ trigger: 'event', RequestId: 'op' });
    for (const line of lines) expect(line.match(/"(msg|level|time|trigger)":/g)?.length).toBe(4);
    expect(b).toMatchObject({ msg: 'bound msg', level: 'overridden?', chunk: 2 });
  });

  it('says so when fields cannot be serialised, instead of throwing', () => {
    const lines: string[] = [];
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    createLogger('info', {}, (l) => lines.push(l)).error('broken', { cyclic, big: 10n });
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({ msg: 'broken', logError: 'fields could not be serialised' });
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

describe('the stdout writer', () => {
  const harness = (direct: (text: string, call: number) => number) => {
    const written: Buffer[] = [];
    const queued: Buffer[] = [];
    let calls = 0;
    const write = directLineWriter(
      (text) => {
        const n = direct(text, calls++);
        written.push(Buffer.from(text).subarray(0, n));
        return n;
      },
      (chunk) => queued.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk)),
    );
    const text = (parts: Buffer[]) => parts.map((b) => b.toString('utf8'));
    return { write, written, queued, text, calls: () => calls };
  };

  it('writes each whole line directly', () => {
    const h = harness((text) => Buffer.byteLength(text));
    h.write('{"a":"é"}');
    h.write('{"b":2}');
    expect(h.text(h.written)).toEqual(['{"a":"é"}\n', '{"b":2}\n']);
    expect(h.queued).toEqual([]);
  });

  it('after EAGAIN, queues that line and every later one, in order, and writes directly no more', () => {
    const h = harness((text, call) => {
      if (call === 1) throw Object.assign(new Error('EAGAIN'), { code: 'EAGAIN' });
      return Buffer.byteLength(text);
    });
    for (const line of ['one', 'two', 'three']) h.write(line);
    expect(h.text(h.written)).toEqual(['one\n']);
    expect(h.text(h.queued)).toEqual(['two\n', 'three\n']);
    expect(h.calls()).toBe(2);
  });

  it('after a short write, queues exactly the bytes not written, even inside a multi-byte character', () => {
    const h = harness((_text, call) => (call === 0 ? 4 : 0));
    h.write('{"优":1}');
    h.write('next');
    // 4 bytes end inside 优 (3 bytes from offset 2): the rest must continue it byte for byte.
    expect(Buffer.concat([h.written[0] ?? Buffer.alloc(0), h.queued[0] ?? Buffer.alloc(0)])).toEqual(
      Buffer.from('{"优":1}\n'),
    );
    expect(h.text(h.queued.slice(1))).toEqual(['next\n']);
    expect(h.calls()).toBe(1);
  });
});
