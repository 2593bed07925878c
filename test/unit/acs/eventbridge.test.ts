/** Our EventBridge data-plane signer against the one Alibaba's EventBridge SDK uses (@alicloud/eventbridge-util). */
import Util from '@alicloud/eventbridge-util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  EVENTBRIDGE_PUT_EVENTS_PATH,
  eventBridgeSignature,
  eventBridgeStringToSign,
  parseEventBridgeAuthorization,
  signPutEvents,
} from '../../../lib/acs/eventbridge.js';

const sdk = Util as unknown as {
  getStringToSign(req: {
    method: string;
    pathname: string;
    headers: Record<string, string>;
    query: Record<string, string>;
  }): string;
  getSignature(stringToSign: string, secret: string): string;
};

describe('EventBridge data-plane signature', () => {
  it('signs a PutEvents call exactly as the SDK would', () => {
    const headers = signPutEvents('123.eventbridge.cn-hangzhou.aliyuncs.com', {
      accessKeyId: 'LTAIexample',
      accessKeySecret: 'secret',
      securityToken: 'sts-token',
    });
    const { authorization, ...signed } = headers;
    const toSign = sdk.getStringToSign({
      method: 'POST',
      pathname: EVENTBRIDGE_PUT_EVENTS_PATH,
      headers: signed,
      query: {},
    });
    expect(authorization).toBe(`acs:LTAIexample:${sdk.getSignature(toSign, 'secret')}`);
    expect(parseEventBridgeAuthorization(authorization ?? '')).toEqual({
      accessKeyId: 'LTAIexample',
      signature: sdk.getSignature(toSign, 'secret'),
    });
  });

  it('builds the same string to sign as the SDK for any headers and query', () => {
    const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,12}$/);
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.oneof(
            name,
            name.map((n) => `x-acs-${n}`),
          ),
          fc.string({ maxLength: 20 }),
        ),
        fc.dictionary(name, fc.stringMatching(/^[A-Za-z0-9]{0,8}$/)),
        fc.constantFrom('GET', 'POST', 'put'),
        (headers, query, method) => {
          const req = { method, path: '/openapi/x', headers, query };
          expect(eventBridgeStringToSign(req)).toBe(sdk.getStringToSign({ ...req, pathname: req.path }));
          expect(eventBridgeSignature('abc', 'k')).toBe(sdk.getSignature('abc', 'k'));
        },
      ),
      { numRuns: 500 },
    );
  });

  it.each(['', 'acs:', 'acs:id', 'acs::sig', 'ACS3-HMAC-SHA256 Credential=x', 'acs:id:sig with space'])(
    'refuses the malformed authorization %j',
    (value) => expect(parseEventBridgeAuthorization(value)).toBeUndefined(),
  );
});
