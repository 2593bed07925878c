import { describe, expect, it } from 'vitest';
import { processIo } from '../../../cli/io.js';

/** A stream that records what is written, a terminal or not. */
const stream = (isTTY: boolean) => {
  const written: string[] = [];
  return { written, s: { isTTY, write: (t: string) => written.push(t) > 0 } as unknown as NodeJS.WriteStream };
};

describe('processIo', () => {
  it('draws no progress when stderr is not a terminal', () => {
    const out = stream(false);
    const err = stream(false);
    const io = processIo(out.s, err.s);
    expect(io.progress).toBeUndefined();
    io.note('a note');
    expect(err.written).toEqual(['a note\n']);
  });

  it('on a terminal, redraws one progress line in place and clears it before any other line', () => {
    const out = stream(false);
    const err = stream(true);
    const io = processIo(out.s, err.s);
    io.progress?.(1, 4, 'checking 1918******883');
    expect(err.written.at(-1)).toBe('\r\u001b[2K[######..................] 1/4 checking 1918******883');
    io.out('result');
    expect(err.written.at(-1)).toBe('\r\u001b[2K');
    expect(out.written).toEqual(['result\n']);
  });

  it('writes nothing that controls the terminal, whatever the text holds', () => {
    const out = stream(false);
    const err = stream(true);
    const io = processIo(out.s, err.s);
    io.out('a\u001b]0;title\u0007b');
    io.progress?.(0, 1, 'x\u001b[2Jy');
    expect(out.written).toEqual(['a\\u001b]0;title\\u0007b\n']);
    expect(err.written.at(-1)).toContain('x\\u001b[2Jy');
  });
});
