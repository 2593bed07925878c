/**
 * The conventional way to write this function, for comparison only (never shipped): middy with
 * @middy/validator compiling the schema at start-up, and @alicloud/openapi-client's callApi doing the send.
 */
import middy from '@middy/core';
import validator from '@middy/validator';
import { transpileSchema } from '@middy/validator/transpile';
import * as OpenApiModule from '@alicloud/openapi-client';
import * as UtilModule from '@alicloud/tea-util';

interface SdkClient {
  callApi(params: unknown, request: unknown, runtime: unknown): Promise<{ body: unknown }>;
}
interface OpenApiShape {
  default: new (config: unknown) => SdkClient;
  Config: new (c: Record<string, unknown>) => unknown;
  Params: new (p: Record<string, unknown>) => unknown;
  OpenApiRequest: new (r: Record<string, unknown>) => unknown;
}
const OpenApi = ((OpenApiModule as unknown as { default: OpenApiShape }).default ??
  OpenApiModule) as unknown as OpenApiShape;
const Util = ((UtilModule as unknown as { default: { RuntimeOptions: new (o: object) => unknown } }).default ??
  UtilModule) as unknown as { RuntimeOptions: new (o: object) => unknown };
const OpenApiClient = (OpenApi.default as unknown as { default?: OpenApiShape['default'] }).default ?? OpenApi.default;

const id = { type: ['integer', 'string'], minimum: 1, pattern: '^[0-9]{1,20}$' };
const schema = {
  type: 'object',
  required: ['body'],
  properties: {
    body: {
      type: 'object',
      required: ['SellerId', 'TemplateId', 'userAmountModelList', 'RequestId', 'FromApp'],
      additionalProperties: false,
      properties: {
        SellerId: id,
        TemplateId: id,
        RequestId: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,64}$' },
        FromApp: { type: 'string', minLength: 1, maxLength: 64 },
        userAmountModelList: {
          type: 'array',
          minItems: 1,
          items: {
            type: 'object',
            required: ['uid', 'amount'],
            additionalProperties: false,
            properties: { uid: id, amount: { type: 'number', exclusiveMinimum: 0 } },
          },
        },
      },
    },
  },
};

interface Event {
  body: {
    SellerId: number | string;
    TemplateId: number | string;
    RequestId: string;
    FromApp: string;
    userAmountModelList: Array<{ uid: number | string; amount: number }>;
  };
}
interface Context {
  credentials: { accessKeyId: string; accessKeySecret: string; securityToken?: string };
}

export const handler = middy<Event, unknown, Error, Context>()
  .before((request) => {
    const raw = JSON.parse(Buffer.from(request.event as unknown as Buffer).toString('utf8')) as { body: string };
    request.event = { body: JSON.parse(raw.body) as Event['body'] };
  })
  .use(validator({ eventSchema: transpileSchema(schema, { allowUnionTypes: true }) }))
  .handler(async (event, context) => {
    const endpoint = new URL(process.env['RESELLERTRADE_ENDPOINT'] ?? 'https://resellertrade.aliyuncs.com');
    const client = new OpenApiClient(
      new OpenApi.Config({
        ...context.credentials,
        endpoint: endpoint.host,
        protocol: endpoint.protocol.replace(':', '').toUpperCase(),
        readTimeout: 10000,
        connectTimeout: 10000,
      }),
    );
    const params = new OpenApi.Params({
      action: 'SendCoupon',
      version: '2019-12-27',
      protocol: 'HTTPS',
      pathname: '/',
      method: 'POST',
      authType: 'AK',
      style: 'RPC',
      reqBodyType: 'formData',
      bodyType: 'json',
    });
    const b = event.body;
    const body = {
      SellerId: String(b.SellerId),
      TemplateId: String(b.TemplateId),
      RequestId: b.RequestId,
      FromApp: b.FromApp,
      UserAmountModelList: b.userAmountModelList.map((r) => ({ Uid: String(r.uid), Amount: r.amount })),
    };
    const res = await client.callApi(params, new OpenApi.OpenApiRequest({ body }), new Util.RuntimeOptions({}));
    return {
      statusCode: 200,
      headers: { 'content-type': 'application/json' },
      isBase64Encoded: false,
      body: JSON.stringify(res.body),
    };
  });
