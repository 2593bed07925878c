// Build-time stand-in for the `debug` package inside ioredis: its output is never enabled in a function,
// and loading it (with node:tty) costs start-up time on every cold start.
function debug(namespace) {
  const log = () => {};
  log.enabled = false;
  log.namespace = namespace;
  log.extend = (suffix) => debug(`${namespace}:${suffix}`);
  return log;
}
debug.enabled = () => false;
debug.default = debug;
module.exports = debug;
