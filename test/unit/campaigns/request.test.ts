import { describe, expect, it } from 'vitest';
import { parseCampaignStart } from '../../../lib/campaigns/request.js';
import { loadConfig } from '../../../lib/config.js';
import { AppError } from '../../../lib/errors.js';
import { parseJsonExact } from '../../../lib/json.js';

const body = {
  CampaignId: 'spring-2026',
  SellerId: 3944837183,
  TemplateId: '295873',
  FromApp: 'campaigns',
  Bucket: 'coupon-campaigns',
  Key: 'lists/spring.csv',
};
const parse = (value: unknown, env: Record<string, string> = {}) =>
  parseCampaignStart(parseJsonExact(JSON.stringify(value)), loadConfig(env));
const refusal = (value: unknown, env: Record<string, string> = {}): AppError => {
  try {
    parse(value, env);
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error('accepted');
};

describe('a campaign start body', () => {
  it('takes the send fields by the send rules: canonical ids, as sent upstream', () => {
    expect(parse(body)).toEqual({
      campaignId: 'spring-2026',
      sellerId: { digits: '3944837183', kind: 'number' },
      templateId: { digits: '295873', kind: 'string' },
      fromApp: 'campaigns',
      bucket: 'coupon-campaigns',
      key: 'lists/spring.csv',
    });
    expect(parse({ ...body, Bid: '77', Operator: 'ops' })).toMatchObject({ bid: { digits: '77' }, operator: 'ops' });
  });

  it('takes SellerId and FromApp from SELLER_ID and FROM_APP when omitted; another seller is 403', () => {
    const { SellerId: _s, FromApp: _f, ...rest } = body;
    expect(parse(rest, { SELLER_ID: '3944837183', FROM_APP: 'from-env' })).toMatchObject({
      sellerId: { digits: '3944837183' },
      fromApp: 'from-env',
    });
    expect(refusal({ ...body, SellerId: '42' }, { SELLER_ID: '3944837183' }).status).toBe(403);
  });

  it.each([
    [{ TemplateId: '007' }, '/TemplateId'],
    [{ TemplateId: '9223372036854775808' }, '/TemplateId'],
    [{ SellerId: 0 }, '/SellerId'],
    [{ FromApp: 'a\u2028b' }, '/FromApp'],
    [{ CampaignId: 'x'.repeat(49) }, '/CampaignId'],
    [{ CampaignId: 'spring:1' }, '/CampaignId'],
    // FC task ids start with a letter or _: `2026-spring-c1` would be refused by FC.
    [{ CampaignId: '2026-spring' }, '/CampaignId'],
    [{ Bucket: 'UPPER' }, '/Bucket'],
    [{ Key: '' }, '/Key'],
    [{ Key: '/abs' }, '/Key'],
    [{ ammount: 1 }, '/ammount'],
    [{ userAmountModelList: [] }, '/userAmountModelList'],
  ])('refuses %j with a 400 naming %s', (over, path) => {
    const err = refusal({ ...body, ...over });
    expect(err.status).toBe(400);
    expect(err.errors).toEqual(expect.arrayContaining([expect.objectContaining({ path })]));
  });

  it('names every problem at once, and refuses a body that is not an object', () => {
    const err = refusal({ ...body, CampaignId: '', TemplateId: '0', Bucket: 1 });
    expect(err.errors?.map((e) => e.path).sort()).toEqual(['/Bucket', '/CampaignId', '/TemplateId']);
    expect(refusal([body]).status).toBe(400);
  });
});
