/**
 * The repository stands alone: no file points at a document that is not in it (a contract or notes kept
 * elsewhere, a Markdown link to a missing file, a `docs/…` or `deploy/…` path that does not exist).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const tracked = execFileSync('git', ['ls-files', '-co', '--exclude-standard'], { cwd: root, encoding: 'utf8' })
  .split('\n')
  .filter((f) => f !== '' && existsSync(join(root, f)) && /\.(ts|mjs|js|md|ya?ml|json)$/.test(f))
  .filter((f) => !f.endsWith('package-lock.json') && !f.startsWith('lib/schema/validators.generated'));
const texts = tracked.map((file) => ({ file, text: readFileSync(join(root, file), 'utf8') }));

/** This file names the patterns it looks for. */
const SELF = 'test/unit/repo/references.test.ts';

describe('references to documents', () => {
  it('never cite a contract or a folder outside the repository', () => {
    const outside = texts
      .filter(({ file }) => file !== SELF)
      .flatMap(({ file, text }) =>
        text
          .split('\n')
          .map((line, i) => ({ line, at: `${file}:${i + 1}` }))
          .filter(({ line }) => /CONTRACT(\.md| §)|\.\.\/shared\b|DESIGN\.md/.test(line))
          .map(({ at }) => at),
      );
    expect(outside).toEqual([]);
  });

  it('link only to files that exist (Markdown links and docs/, deploy/ paths)', () => {
    const missing: string[] = [];
    for (const { file, text } of texts) {
      if (file === SELF) continue;
      if (file.endsWith('.md')) {
        for (const m of text.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)) {
          const target = m[1] ?? '';
          if (/^[a-z]+:/i.test(target)) continue;
          if (!existsSync(normalize(join(root, dirname(file), target)))) missing.push(`${file} → ${target}`);
        }
      }
      for (const m of text.matchAll(/\b((?:docs|deploy)\/[\w./-]+\.(?:md|json|yaml|png))\b/g)) {
        const target = m[1] ?? '';
        if (!existsSync(join(root, target))) missing.push(`${file} → ${target}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
