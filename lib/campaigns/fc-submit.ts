import { Readable } from 'node:stream';
import type { Credentials } from '../resellertrade/client.js';

/** One FC 3.0 asynchronous invocation with a stateful task id; 'exists' when FC refused the id as used (409). */
export type Submit = (functionName: string, taskId: string, payload: unknown) => Promise<'submitted' | 'exists'>;

interface FcClientLike {
  invokeFunctionWithOptions(name: string, request: unknown, headers: unknown, runtime: unknown): Promise<unknown>;
}

const statusOf = (err: unknown): number | undefined => {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { statusCode?: unknown; data?: { statusCode?: unknown } };
  const status = e.statusCode ?? e.data?.statusCode;
  return typeof status === 'number' ? status : undefined;
};

/** CommonJS default exports reach ESM as `default`, and once more as `default.default` when bundled or not. */
const defaultOf = <T>(mod: { default?: unknown }): T => {
  const d = mod.default as { default?: unknown } | undefined;
  return (d?.default ?? d) as T;
};

/**
 * Submits asynchronous invocations through the FC 3.0 SDK (`@alicloud/fc20230330`), signed with the runtime role's
 * credentials. The SDK is imported here, on first use: only the campaign functions (and a campaign route) load it.
 */
export async function fcSubmitter(endpoint: URL, credentials: () => Credentials): Promise<Submit> {
  const [fcModule, core, tea] = await Promise.all([
    import('@alicloud/fc20230330'),
    import('@alicloud/openapi-core'),
    import('@darabonba/typescript'),
  ]);
  const Client = defaultOf<new (config: unknown) => FcClientLike>(fcModule);
  const keys = credentials();
  const client = new Client(
    new core.$OpenApiUtil.Config({
      accessKeyId: keys.accessKeyId,
      accessKeySecret: keys.accessKeySecret,
      ...(keys.securityToken ? { securityToken: keys.securityToken } : {}),
      endpoint: endpoint.host,
      protocol: endpoint.protocol.replace(':', ''),
    }),
  );
  return async (functionName, taskId, payload) => {
    const request = new fcModule.InvokeFunctionRequest({ body: Readable.from([Buffer.from(JSON.stringify(payload))]) });
    const headers = new fcModule.InvokeFunctionHeaders({ xFcInvocationType: 'Async', xFcAsyncTaskId: taskId });
    try {
      await client.invokeFunctionWithOptions(functionName, request, headers, new tea.RuntimeOptions({}));
      return 'submitted';
    } catch (err) {
      if (statusOf(err) === 409) return 'exists';
      throw err;
    }
  };
}
