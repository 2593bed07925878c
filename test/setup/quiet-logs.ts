import { beforeEach } from 'vitest';
import { LOG_SINK, type LineWriter } from '../../lib/log.js';

/**
 * The application's log lines written in this test file's process are kept per test and printed only when that
 * test fails, so a passing run shows vitest's summary and nothing else. Set `TEST_LOGS=1` to see every line.
 */
if (process.env['TEST_LOGS'] !== '1') {
  let lines: string[] = [];
  (globalThis as { [LOG_SINK]?: LineWriter })[LOG_SINK] = (line) => {
    lines.push(line);
  };
  beforeEach(({ onTestFailed }) => {
    lines = [];
    onTestFailed(() => {
      if (lines.length === 0) return;
      process.stdout.write(`--- application log of this test (${lines.length} lines) ---\n${lines.join('\n')}\n`);
    });
  });
}
