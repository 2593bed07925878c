// Build-time stand-in for a Node built-in that ioredis requires at load time but uses only on some paths
// (TLS connections, cluster DNS lookups, assertions): the real module is loaded on first use. The target is
// substituted by the build (see scripts/build.ts), so one file serves for every such module.
const target = __LAZY_BUILTIN__;
let real;
const load = () => (real ??= require(target));
const lazy = new Proxy(
  function lazyBuiltin(...args) {
    return load()(...args);
  },
  {
    get: (_fn, key) => load()[key],
    has: (_fn, key) => key in load(),
  },
);
module.exports = lazy;
