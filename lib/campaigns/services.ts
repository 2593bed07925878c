import { credentialSource } from '../credentials.js';
import type { FcContext } from '../fc.js';
import type { Runtime } from '../runtime.js';
import { openBucket, type Bucket } from './bucket.js';
import { fcSubmitter, type Submit } from './fc-submit.js';
import { AppError } from '../errors.js';
import { campaignSettings, CampaignSettingsError, type CampaignSettings } from './settings.js';
import { memoryCampaignStoreOfProcess, type CampaignStore } from './store.js';

/** What the campaign routes, the planner and the chunk worker use besides the send runtime. */
export interface CampaignServices {
  runtime: Runtime;
  settings: CampaignSettings;
  store: CampaignStore;
  /** A bucket signed with the runtime role's credentials of this invocation. */
  bucket(name: string): Promise<Bucket>;
  submit: Submit;
}

let instance: Promise<{ settings: CampaignSettings; store: CampaignStore }> | undefined;

/** Per instance: the settings (checked once) and the campaign store, on the send runtime's store setting. */
async function perInstance(runtime: Runtime) {
  const settings = campaignSettings(runtime.env);
  if (runtime.config.store.kind !== 'redis') return { settings, store: memoryCampaignStoreOfProcess() };
  const [{ connectRedis }, { redisCampaignStore }] = await Promise.all([
    import('../redis/connect.js'),
    import('./redis-store.js'),
  ]);
  return { settings, store: redisCampaignStore(await connectRedis(runtime.config.store.url)) };
}

export async function campaignServices(runtime: Runtime, context: FcContext): Promise<CampaignServices> {
  instance ??= perInstance(runtime);
  // A failed start (bad settings, Redis down) is tried again by the next invocation, not kept for ever.
  const { settings, store } = await instance.catch((err: unknown) => {
    instance = undefined;
    throw err instanceof CampaignSettingsError ? new AppError(500, 'InvalidConfiguration', err.message) : err;
  });
  const credentials = credentialSource(context, runtime.env);
  let submitter: Promise<Submit> | undefined;
  return {
    runtime,
    settings,
    store,
    bucket: async (name) => {
      const keys = credentials();
      return openBucket({
        region: settings.ossRegion,
        bucket: name,
        accessKeyId: keys.accessKeyId,
        accessKeySecret: keys.accessKeySecret,
        ...(keys.securityToken ? { securityToken: keys.securityToken } : {}),
        ...(settings.ossEndpoint === undefined ? {} : { endpoint: settings.ossEndpoint }),
      });
    },
    submit: async (fn, taskId, payload) => {
      submitter ??= fcSubmitter(settings.fcEndpoint, credentials);
      return (await submitter)(fn, taskId, payload);
    },
  };
}
