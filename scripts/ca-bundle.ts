import { copyFileSync, readFileSync } from 'node:fs';

/**
 * The file name, in each function's folder, of the CA bundle a `rediss://` store is trusted with. FC unpacks the
 * code package to /code, so s.yaml points NODE_EXTRA_CA_CERTS at /code/redis-ca.pem whenever
 * COUPON_REDIS_CA_FILE was set for the build.
 */
export const REDIS_CA_FILE_NAME = 'redis-ca.pem';

/** Copies the PEM bundle `caFile` into every function folder; a file that holds no certificate is refused. */
export function copyCaBundle(caFile: string, functionDirs: string[]): void {
  let text: string;
  try {
    text = readFileSync(caFile, 'utf8');
  } catch {
    throw new Error(`COUPON_REDIS_CA_FILE: cannot read ${caFile}`);
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----'))
    throw new Error(`COUPON_REDIS_CA_FILE: ${caFile} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  for (const dir of functionDirs) copyFileSync(caFile, `${dir}/${REDIS_CA_FILE_NAME}`);
}
