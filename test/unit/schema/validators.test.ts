import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileSchemas, generatedPath } from '../../../scripts/compile-schemas.js';

describe('precompiled validators', () => {
  it('are up to date with lib/schema/definitions.ts (run `npm run schemas` after editing it)', () => {
    expect(readFileSync(generatedPath, 'utf8')).toBe(compileSchemas());
  });

  it('need no ajv and no require() at run time', () => {
    const code = readFileSync(generatedPath, 'utf8');
    expect(code).not.toMatch(/require\(|from ['"]ajv/);
  });
});
