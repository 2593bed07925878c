// Build-time stand-in for `proxy-agent`, which urllib (under ali-oss) requires only when an HTTP proxy is
// configured. The campaign functions reach OSS directly, never through a proxy: using one fails loudly here.
module.exports = function ProxyAgent() {
  throw new Error('HTTP proxies are not supported by the campaign functions (proxy-agent is not bundled)');
};
