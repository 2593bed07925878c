/**
 * deploy/ros/coupon-sender.yaml checked offline: every resource against its ROS type's properties
 * (test/fixtures/ros-resource-types.json), every reference against what the template defines, and the event
 * route against what the coupon-event function accepts.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { decodeEvents } from '../../../lib/triggers/event.js';

interface Shape {
  required: string[];
  allowed: string[];
}
type Types = Record<string, Shape & Record<string, unknown>>;
interface Resource {
  Type: string;
  Properties: Record<string, unknown>;
  DependsOn?: string | string[];
}
interface Template {
  ROSTemplateFormatVersion: string;
  Parameters: Record<string, { Type: string; Default?: unknown }>;
  Resources: Record<string, Resource>;
  Outputs: Record<string, { Value: unknown }>;
}

const types = JSON.parse(
  readFileSync(new URL('../../fixtures/ros-resource-types.json', import.meta.url), 'utf8'),
) as Types;
const template = parse(
  readFileSync(new URL('../../../deploy/ros/coupon-sender.yaml', import.meta.url), 'utf8'),
) as Template;
const resources = Object.entries(template.Resources);

function shapeProblems(where: string, value: Record<string, unknown>, shape: Shape): string[] {
  const problems = shape.required.filter((k) => !(k in value)).map((k) => `${where}: ${k} is required`);
  for (const k of Object.keys(value)) if (!shape.allowed.includes(k)) problems.push(`${where}: ${k} is not a property`);
  return problems;
}

/** Every `Ref`, `Fn::GetAtt` and `${name}` of `Fn::Sub` found anywhere under a value. */
function references(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => references(v, out));
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'Ref' && typeof v === 'string') out.push(v);
      else if (k === 'Fn::GetAtt' && Array.isArray(v)) out.push(String(v[0]));
      else if (k === 'Fn::Sub' && typeof v === 'string') for (const m of v.matchAll(/\$\{([^}]+)\}/g)) out.push(m[1]!);
      else references(v, out);
    }
  }
  return out;
}

describe('the ROS template (deploy/ros/coupon-sender.yaml)', () => {
  it('is a ROS template whose resources use only types and properties ROS defines', () => {
    expect(template.ROSTemplateFormatVersion).toBe('2015-09-01');
    const problems = resources.flatMap(([name, r]) => {
      const shape = types[r.Type];
      return shape ? shapeProblems(name, r.Properties, shape) : [`${name}: unknown type ${r.Type}`];
    });
    expect(problems).toEqual([]);
  });

  it('refers only to its parameters, its resources and ROS pseudo parameters', () => {
    const known = new Set([...Object.keys(template.Parameters), ...Object.keys(template.Resources)]);
    const unknown = references({ r: template.Resources, o: template.Outputs }).filter(
      (name) => !known.has(name) && !name.startsWith('ALIYUN::'),
    );
    expect(unknown).toEqual([]);
    for (const [, r] of resources)
      for (const dep of [r.DependsOn ?? []].flat()) expect(Object.keys(template.Resources)).toContain(dep);
  });

  it('routes the custom bus to coupon-event asynchronously, with the whole CloudEvent and a dead-letter queue', () => {
    const rule = template.Resources['SendRule'] as Resource;
    const shapes = types['ALIYUN::EventBridge::Rule'] as unknown as {
      Targets: Shape & { ParamList: Shape & { Form: string[] }; PushRetryStrategy: string[] };
      'acs.fc.function': { ResourceKey: string[]; InvocationType: string[] };
    };
    const targets = rule.Properties['Targets'] as Array<Record<string, unknown>>;
    expect(targets).toHaveLength(1);
    const target = targets[0]!;
    expect(shapeProblems('target', target, shapes.Targets)).toEqual([]);
    expect(target['Type']).toBe('acs.fc.function');
    expect(shapes.Targets.PushRetryStrategy).toContain(target['PushRetryStrategy']);
    const params = target['ParamList'] as Array<Record<string, unknown>>;
    for (const p of params) {
      expect(shapeProblems(`param ${String(p['ResourceKey'])}`, p, shapes.Targets.ParamList)).toEqual([]);
      expect(shapes.Targets.ParamList.Form).toContain(p['Form']);
      expect(shapes['acs.fc.function'].ResourceKey).toContain(p['ResourceKey']);
    }
    const param = (key: string) => params.find((p) => p['ResourceKey'] === key);
    expect(param('InvocationType')).toMatchObject({ Form: 'CONSTANT', Value: 'Async' });
    expect(param('Body')).toMatchObject({ Form: 'ORIGINAL' });
    expect(param('functionName')?.['Value']).toEqual({ Ref: 'FunctionName' });
    expect(template.Parameters['FunctionName']?.Default).toBe('coupon-event');
    expect(references(target['DeadLetterQueue'])).toEqual(['ALIYUN::Region', 'ALIYUN::AccountId']);
    expect(rule.Properties['EventBusName']).toBe(
      (template.Resources['EventBus'] as Resource).Properties['EventBusName'],
    );
  });

  it('matches the CloudEvent a producer publishes, which the function decodes to one operation', () => {
    const source = template.Parameters['EventSource']?.Default as string;
    const rule = template.Resources['SendRule'] as Resource;
    expect(rule.Properties['FilterPattern']).toEqual({ source: [{ Ref: 'EventSource' }] });
    const event = {
      specversion: '1.0',
      id: 'evt-1',
      source,
      type: 'coupon:Send',
      datacontenttype: 'application/json',
      data: {
        SellerId: '3944837183',
        TemplateId: '295873',
        FromApp: 'producer',
        userAmountModelList: [{ uid: '1918000000883', amount: 1 }],
      },
    };
    const [delivery, ...more] = decodeEvents(Buffer.from(JSON.stringify(event)));
    expect(more).toEqual([]);
    expect(delivery).toMatchObject({ rule: { kind: 'default', value: `${source}:evt-1` } });
  });

  it('trusts only Function Compute with the role, and grants only what the functions call', () => {
    const role = (template.Resources['FunctionRole'] as Resource).Properties;
    expect(role['AssumeRolePolicyDocument']).toEqual({
      Version: '1',
      Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: ['fc.aliyuncs.com'] } }],
    });
    const actions = (role['Policies'] as Array<{ PolicyDocument: { Statement: Array<{ Action: string[] }> } }>)
      .flatMap((p) => p.PolicyDocument.Statement)
      .flatMap((s) => s.Action)
      .sort();
    expect(actions).toEqual([
      'fc:InvokeFunction',
      'log:PostLogStoreLogs',
      'mns:SendMessage',
      'oss:GetObject',
      'oss:PutObject',
      'resellertrade:GetCouponPage',
      'resellertrade:SendCoupon',
    ]);
  });

  it('keeps the campaign bucket private, reachable by the role for its objects only, and lets it invoke only the campaign functions', () => {
    const bucket = template.Resources['CampaignBucket'] as Resource;
    const shape = types['ALIYUN::OSS::Bucket'] as unknown as { AccessControl: string[] };
    expect(bucket.Type).toBe('ALIYUN::OSS::Bucket');
    expect(shape.AccessControl).toContain(bucket.Properties['AccessControl']);
    expect(bucket.Properties['AccessControl']).toBe('private');
    const name = (bucket.Properties['BucketName'] as { 'Fn::Sub': string })['Fn::Sub'];
    expect((template.Outputs['CampaignBucket']?.Value as { 'Fn::Sub': string })['Fn::Sub']).toBe(name);
    const statements = (
      (template.Resources['FunctionRole'] as Resource).Properties['Policies'] as Array<{
        PolicyDocument: { Statement: Array<{ Action: string[]; Resource: unknown }> };
      }>
    ).flatMap((p) => p.PolicyDocument.Statement);
    const oss = statements.find((st) => st.Action.includes('oss:GetObject'));
    expect(oss?.Resource).toEqual({ 'Fn::Sub': `acs:oss:*:*:${name}/*` });
    const fc = statements.find((st) => st.Action.includes('fc:InvokeFunction'));
    expect(JSON.stringify(fc?.Resource)).toMatch(/functions\/coupon-campaign"/);
    expect(JSON.stringify(fc?.Resource)).toMatch(/functions\/coupon-campaign-chunk"/);
    expect(JSON.stringify(fc?.Resource)).not.toMatch(/functions\/coupon-(http|event|timer)/);
  });
});
