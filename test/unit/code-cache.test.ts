import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertLoadable, fcLikelyFlags, WRAP_HEAD, WRAP_TAIL, writeLoader } from '../../scripts/code-cache.js';
import { nodeFlags } from '../../lib/runtime.js';

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

/** A bundle whose answer shows which bytecode ran: an edit of one digit keeps its length. */
const BUNDLE = `"use strict";
function scale(n) { let t = 0; for (let i = 0; i < 3; i++) t += n * 2; return t / 3; }
exports.handler = async (event) => String(scale(Number(event)));
`;
const EDITED = BUNDLE.replace('n * 2', 'n * 5');

/** Compiles the bundle as the loader does, serves a few invocations, and writes the cache of what ran. */
const TRAIN = `
const { readFileSync, writeFileSync } = require('node:fs');
const { Script } = require('node:vm');
const [file, cache, head, tail] = process.argv.slice(1);
const script = new Script(head + readFileSync(file, 'latin1') + tail, { filename: file });
const module = { exports: {} };
script.runInThisContext()(module.exports, require, module, file, '.');
Promise.all([1, 2, 3].map((n) => module.exports.handler(n))).then(() => writeFileSync(cache, script.createCachedData()));
`;

/** Loads dir/index.mjs in a plain node (what FC does) and invokes the handler with 21. */
function load(dir: string, env: Record<string, string> = {}): { codeCache: string; answer: string } {
  const script = `const m = await import(${JSON.stringify(join(dir, 'index.mjs'))});
    process.stdout.write(JSON.stringify({ codeCache: m.codeCache, answer: await m.handler('21') }));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { PATH: process.env['PATH'] ?? '', ...env },
    encoding: 'utf8',
  });
  return JSON.parse(out) as { codeCache: string; answer: string };
}

describe('the loader and the build’s code cache', () => {
  let dir: string;
  let cache: Buffer;
  /** Trained under --max-old-space-size=300, as FC's start script would set it for a 333 MB function. */
  const flagged = ['--max-old-space-size=300'];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'loader-'));
    writeFileSync(join(dir, 'bundle.cjs'), BUNDLE);
    for (const [flags, file] of [
      [[], 'bundle.cache'],
      [flagged, 'bundle.flagged.cache'],
    ] as const)
      execFileSync(process.execPath, [
        ...flags,
        '-e',
        TRAIN,
        join(dir, 'bundle.cjs'),
        join(dir, file),
        WRAP_HEAD,
        WRAP_TAIL,
      ]);
    writeLoader(dir, 'coupon-http', [
      { file: 'bundle.flagged.cache', flags: flagged },
      { file: 'bundle.cache', flags: [] },
    ]);
    cache = readFileSync(join(dir, 'bundle.cache'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const restore = () => {
    writeFileSync(join(dir, 'bundle.cjs'), BUNDLE);
    writeFileSync(join(dir, 'bundle.cache'), cache);
  };

  it('hands V8 the cache the build made for this bundle: accepted', () => {
    restore();
    expect(load(dir)).toEqual({ codeCache: 'accepted', answer: '42' });
  });

  it('compiles an edited bundle of the same length from source (mismatch), and answers as the edit says', () => {
    restore();
    writeFileSync(join(dir, 'bundle.cjs'), EDITED);
    expect(EDITED.length).toBe(BUNDLE.length);
    expect(load(dir)).toEqual({ codeCache: 'mismatch', answer: '105' });
  });

  it('is needed: V8 alone takes the old cache for the edited bundle and runs the old bytecode', () => {
    const script = `const { Script } = require('node:vm');
      const s = new Script(process.argv[1], { filename: process.argv[2], cachedData: require('node:fs').readFileSync(process.argv[3]) });
      const m = { exports: {} }; s.runInThisContext()(m.exports, require, m, '', '');
      m.exports.handler('21').then((a) => process.stdout.write(JSON.stringify({ rejected: s.cachedDataRejected, answer: a })));`;
    const out = execFileSync(
      process.execPath,
      ['-e', script, WRAP_HEAD + EDITED + WRAP_TAIL, join(dir, 'bundle.cjs'), join(dir, 'bundle.cache')],
      { encoding: 'utf8' },
    );
    expect(JSON.parse(out)).toEqual({ rejected: false, answer: '42' });
  });

  it.each([
    ['its header', 5],
    ['its first payload byte', 64],
    ['its middle', -1],
    ['its last byte', -2],
  ])('refuses a cache with one bit flipped in %s (mismatch), never crashing or answering wrongly', (_where, at) => {
    restore();
    const damaged = Buffer.from(cache);
    const offset = at === -1 ? damaged.length >> 1 : at === -2 ? damaged.length - 1 : at;
    damaged[offset] = (damaged[offset] ?? 0) ^ 0x10;
    writeFileSync(join(dir, 'bundle.cache'), damaged);
    expect(load(dir)).toEqual({ codeCache: 'mismatch', answer: '42' });
  });

  it('takes the cache trained under the flags this node runs with', () => {
    restore();
    expect(load(dir, { NODE_OPTIONS: '--max-old-space-size=300' })).toEqual({ codeCache: 'accepted', answer: '42' });
  });

  it('reports a cache V8 refuses under other flags (rejected), and a missing one (absent), answering from source', () => {
    restore();
    expect(load(dir, { NODE_OPTIONS: '--max-old-space-size=301' })).toEqual({ codeCache: 'rejected', answer: '42' });
    rmSync(join(dir, 'bundle.cache'));
    expect(load(dir)).toEqual({ codeCache: 'absent', answer: '42' });
  });
});

describe('the node flags an instance logs beside its codeCache', () => {
  it.each<[string, string[], string, string]>([
    ['none', [], '', ''],
    [
      "FC's older start scripts",
      ['--max-old-space-size=460', '--max-http-header-size=16384', '--expose-gc'],
      '',
      '--max-old-space-size=460 --max-http-header-size=16384 --expose-gc',
    ],
    [
      'NODE_OPTIONS after the command line',
      ['--expose-gc'],
      ' --max-old-space-size=300  --no-warnings',
      '--expose-gc --max-old-space-size=300 --no-warnings',
    ],
    [
      'never code, nor the module to load',
      ['--input-type=module', '-e', 'secret()', '--eval=x', '--require', './a.js', '--import=./b.js'],
      '-r ./c.js',
      '--input-type=module',
    ],
  ])('%s', (_name, execArgv, nodeOptions, expected) => {
    expect(nodeFlags(execArgv, nodeOptions)).toBe(expected);
  });
});

describe("the flags FC's older Node runtimes start node with", () => {
  it.each([
    [256, ['--max-old-space-size=230', '--expose-gc']],
    [512, ['--max-old-space-size=460', '--expose-gc']],
    [1024, ['--max-old-space-size=921', '--expose-gc']],
  ])('for %i MB: $(expr memory \\* 9 / 10) MB of old space, and --expose-gc', (memory, flags) => {
    expect(fcLikelyFlags(memory)).toEqual(flags);
  });
});
