import { AppError } from './errors.js';
import type { FcContext } from './fc.js';
import type { Credentials } from './resellertrade/client.js';
import type { Env } from './config.js';

/**
 * The runtime role's STS credentials: `context.credentials` first, else the ALIBABA_CLOUD_* variables FC also
 * injects. Read on every call so a refresh (after InvalidSecurityToken.Expired) sees the newest values.
 */
export function credentialSource(context: FcContext, env: Env): () => Credentials {
  return () => {
    const c = context.credentials;
    if (c?.accessKeyId && c.accessKeySecret) {
      return {
        accessKeyId: c.accessKeyId,
        accessKeySecret: c.accessKeySecret,
        ...(c.securityToken ? { securityToken: c.securityToken } : {}),
      };
    }
    const id = env['ALIBABA_CLOUD_ACCESS_KEY_ID'];
    const secret = env['ALIBABA_CLOUD_ACCESS_KEY_SECRET'];
    const token = env['ALIBABA_CLOUD_SECURITY_TOKEN'];
    if (id && secret) return { accessKeyId: id, accessKeySecret: secret, ...(token ? { securityToken: token } : {}) };
    throw new AppError(
      500,
      'MissingCredentials',
      'No credentials: give the function a role (context.credentials) or set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET. Nothing was sent.',
    );
  };
}
