import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

/**
 * The custom bus and its one rule, read from the ROS template that creates them when deployed
 * (deploy/ros/coupon-sender.yaml), so the local stack routes a producer's PutEvents exactly as the deployed rule
 * does: events on this bus whose source the pattern names go to this function, asynchronously.
 */
export interface BusRule {
  busName: string;
  sources: string[];
  functionName: string;
  invocationType: 'Async' | 'Sync';
}

type Node = Record<string, unknown>;
const isNode = (v: unknown): v is Node => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A template value: a literal, or `{Ref: Parameter}` resolved to the parameter's default. */
function valueOf(v: unknown, parameters: Node): string {
  if (typeof v === 'string') return v;
  if (isNode(v) && typeof v['Ref'] === 'string') {
    const p = parameters[v['Ref']];
    if (isNode(p) && typeof p['Default'] === 'string') return p['Default'];
  }
  throw new Error(`the ROS template's rule has a value the local bus cannot resolve: ${JSON.stringify(v)}`);
}

export function busRuleFromTemplate(path: string): BusRule {
  const template = parse(readFileSync(path, 'utf8')) as Node;
  const parameters = isNode(template['Parameters']) ? template['Parameters'] : {};
  const resources = isNode(template['Resources']) ? Object.values(template['Resources']) : [];
  const rule = resources.find((r) => isNode(r) && r['Type'] === 'ALIYUN::EventBridge::Rule');
  const props = isNode(rule) && isNode(rule['Properties']) ? rule['Properties'] : undefined;
  if (!props) throw new Error('the ROS template defines no EventBridge rule');
  const pattern = isNode(props['FilterPattern']) ? props['FilterPattern'] : {};
  const sources = Array.isArray(pattern['source']) ? pattern['source'].map((s) => valueOf(s, parameters)) : [];
  const [target] = Array.isArray(props['Targets']) ? props['Targets'] : [];
  const params = isNode(target) && Array.isArray(target['ParamList']) ? target['ParamList'].filter(isNode) : [];
  const param = (key: string) => params.find((p) => p['ResourceKey'] === key)?.['Value'];
  const invocation = valueOf(param('InvocationType'), parameters);
  return {
    busName: valueOf(props['EventBusName'], parameters),
    sources,
    functionName: valueOf(param('functionName'), parameters),
    invocationType: invocation === 'Sync' ? 'Sync' : 'Async',
  };
}
