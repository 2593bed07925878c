import { describe, expect, it } from 'vitest';
import { assertLoadable } from '../../scripts/code-cache.js';

describe('what the code-cache loader accepts of a bundle', () => {
  it('accepts ASCII CommonJS that requires only built-ins', () => {
    expect(() => assertLoadable('f', 'var a=require("node:crypto");exports.handler=()=>a;')).not.toThrow();
  });

  it.each([
    ['a dynamic import()', 'x=()=>import("node:tls")', /import\(\)/],
    ['import.meta', 'x=import.meta.url', /import\.meta/],
    ['a non-ASCII character', 'x="优惠"', /not ASCII/],
    ['a package that is not a built-in', 'x=require("ioredis")', /not a Node built-in: ioredis/],
  ])('refuses %s', (_name, code, message) => {
    expect(() => assertLoadable('f', code)).toThrow(message);
  });
});
