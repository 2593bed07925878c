import { randomUUID } from 'node:crypto';
import { signRequest, type AcsCredentials } from '../acs/sign-request.js';
import { classifyResponse, type UpstreamOutcome } from './mapping.js';
import { ACS_HEADER, RESELLERTRADE_API_VERSION } from '../acs/constants.js';
import { TransportError, type Transport } from '../http/transport.js';

export type Credentials = AcsCredentials;

export interface SignInput {
  action: string;
  host: string;
  body: string;
  credentials: Credentials;
  date: Date;
  nonce: string;
}

const USER_AGENT = 'coupon-sender (FC nodejs20)';

const roots = new Map<string, URL>();
/** The RPC path of a host, parsed once: only its host and path are signed. */
const rootOf = (host: string): URL => {
  let url = roots.get(host);
  if (!url) {
    url = new URL(`http://${host}/`);
    roots.set(host, url);
  }
  return url;
};

/**
 * The headers of one signed ResellerTrade RPC call, built as @alicloud/openapi-client 0.4.15 builds them
 * (same signed set, so for the same date and nonce the Authorization is the same byte for byte).
 */
export function signRpcHeaders(input: SignInput): Record<string, string> {
  const headers: Record<string, string> = {
    [ACS_HEADER.version]: RESELLERTRADE_API_VERSION,
    [ACS_HEADER.action]: input.action,
    'user-agent': USER_AGENT,
    accept: 'application/json',
    'content-type': 'application/x-www-form-urlencoded',
    [ACS_HEADER.credentialsProvider]: input.credentials.securityToken ? 'static_sts' : 'static_ak',
  };
  return signRequest({ method: 'POST', url: rootOf(input.host), headers, body: input.body }, input.credentials, input);
}

/** `application/json` or an `application/...+json` type, with any parameters; one value only (no comma). */
function isJson(contentType: string | undefined): boolean {
  if (contentType === undefined || contentType.includes(',')) return false;
  const media = (contentType.split(';', 1)[0] as string).trim().toLowerCase();
  return media === 'application/json' || (media.startsWith('application/') && media.endsWith('+json'));
}

export interface UpstreamCall {
  outcome: UpstreamOutcome;
  latencyMs: number;
  raw?: string;
}

export interface ResellerTradeClient {
  readonly endpoint: URL;
  call(action: string, form: string, credentials: Credentials, timeoutMs: number): Promise<UpstreamCall>;
}

export function createResellerTradeClient(
  endpoint: URL,
  transport: Transport,
  clock: () => Date = () => new Date(),
): ResellerTradeClient {
  const url = new URL('/', endpoint);
  return {
    endpoint,
    async call(action, form, credentials, timeoutMs) {
      const headers = signRpcHeaders({
        action,
        host: url.host,
        body: form,
        credentials,
        date: clock(),
        nonce: randomUUID().replaceAll('-', ''),
      });
      // Date.now(), not performance.now(): the first use of `performance` loads perf_hooks (~1 ms of cold start).
      const started = Date.now();
      try {
        const answer = await transport.send(url, { method: 'POST', headers, body: form, timeoutMs });
        if (answer.status >= 200 && answer.status < 300 && !isJson(answer.headers['content-type'])) {
          // A 2xx that is not the API's JSON (a proxy's page, a portal) proves nothing about the call.
          return {
            outcome: {
              kind: 'unknown',
              code: 'Upstream.InvalidResponse',
              message: `the upstream answered HTTP ${answer.status} with a content type that is not JSON`,
              httpStatus: answer.status,
            },
            latencyMs: Date.now() - started,
            raw: answer.body,
          };
        }
        return {
          outcome: classifyResponse(answer.status, answer.headers, answer.body),
          latencyMs: Date.now() - started,
          raw: answer.body,
        };
      } catch (err) {
        const latencyMs = Date.now() - started;
        if (err instanceof TransportError) {
          if (!err.written) {
            return {
              outcome: {
                kind: 'rejected',
                retry: 'connection',
                blame: 'caller',
                code: `Upstream.${err.code}`,
                message: `the request never reached the upstream (${err.message})`,
              },
              latencyMs,
            };
          }
          const code = err.code === 'Timeout' ? 'Upstream.Timeout' : `Upstream.${err.code}`;
          return {
            outcome: {
              kind: 'unknown',
              code,
              message: `the request was sent but its outcome is unknown (${err.message})`,
            },
            latencyMs,
          };
        }
        throw err;
      }
    },
  };
}
