import { deliverables as catalogue } from './deliverables.ts';
import { cidrHas } from '../topology/ipv4.ts';
import { bridge, namespaces, nginxVeth } from './contract.ts';
import { appBridge, hostPeer, namespaceOf, nsLink } from './find.ts';
import type { Judgement } from './judge.ts';
import type { HostModel } from './model.ts';
import type { ServiceFacts } from './service-facts.ts';

import { type Ctx, type Fault, SUBNET, storeOf } from './diagnosis/common.ts';
import { liveFaults } from './diagnosis/live.ts';
import { needsOf } from './diagnosis/needs.ts';
import { bridgeFaults, namespaceFaults } from './diagnosis/network.ts';
import { ruleFaults } from './diagnosis/rules.ts';
import { configFaults, serviceFaults, storeFaults } from './diagnosis/services.ts';

export { gatherServiceFacts, type Logins, type NginxFacts, type PostgresFacts, type RedisFacts, type ServiceFacts, type Target } from './service-facts.ts';

export interface Finding {
  /** Stable kebab-case name of the cause (the mutation catalogue asserts on it). */
  id: string;
  cause: string;
  /** What a learner would type. */
  fix: string;
  deliverables: string[];
}

/** A difference from the seed's spelling that still does the seed's job (a bridge named br0, a /24). */
export interface Deviation {
  id: string;
  text: string;
  deliverables: string[];
}

function contextOf(model: HostModel, facts: ServiceFacts): Ctx {
  const br = appBridge(model);
  const products = namespaceOf(model, 'product-service')?.processes ?? [];
  return {
    model,
    facts,
    ...(br ? { br } : {}),
    brName: br?.name ?? bridge.name,
    pg: storeOf(model, 'postgres-db'),
    redis: storeOf(model, 'redis-cache'),
    productNeedsRedis: products.some((p) => /^python|flask|gunicorn/.test(p.comm) || p.argv.some((a) => a.endsWith('.py'))),
    nginxAnswersHealth: facts.nginx && !facts.nginx.error ? facts.nginx.health : true,
  };
}

/** A service told the wrong address died of it: one finding, the address, with the service's last words and what its death takes down. */
function rootCauses(faults: Fault[], ctx: Ctx): Fault[] {
  const causedBy: Record<string, string> = { 'order-db-address-wrong': 'order-not-listening', 'product-redis-address-wrong': 'product-not-listening' };
  const folded = new Set<Fault>();
  const out = faults.map((f) => {
    const symptom = faults.find((x) => x.id === causedBy[f.id]);
    const ns = f.id.startsWith('order') ? 'order-service' : 'product-service';
    const dead = ctx.facts.dead?.find((d) => d.ns === ns);
    if (!symptom || !dead) return f;
    folded.add(symptom);
    return { ...f, cause: `${f.cause}; it exited${dead.lastWords ? `, its last words: ${dead.lastWords}` : ''}`, breaks: [...f.breaks, ...symptom.breaks] };
  });
  return out.filter((f) => !folded.has(f));
}

/**
 * Why deliverables fail, root causes first: the bridge, the namespaces and their links, the
 * sysctl and rules (the judge's), the services, the data layer, then what connecting showed.
 */
export function diagnose(model: HostModel, judgement: Judgement, facts: ServiceFacts = {}): Finding[] {
  const ctx = contextOf(model, facts);
  const needs = needsOf(ctx);
  const structural = [
    ...bridgeFaults(ctx),
    ...namespaceFaults(ctx),
    ...ruleFaults(judgement),
    ...serviceFaults(ctx),
    ...storeFaults(ctx, ctx.redis),
    ...storeFaults(ctx, ctx.pg),
    ...configFaults(ctx),
  ];
  const broken = new Set(structural.flatMap((f) => f.breaks));
  return rootCauses([...structural, ...liveFaults(ctx, needs, broken)], ctx).map((f) => {
    const b = new Set(f.breaks);
    return { id: f.id, cause: f.cause, fix: f.fix, deliverables: catalogue.filter((d) => needs[d.id]?.some((k) => b.has(k))).map((d) => d.id) };
  });
}

/** How the lab differs from the seed's spelling while doing its job; never a failure by itself. */
export function deviations(model: HostModel, judgement: Judgement, facts: ServiceFacts = {}): Deviation[] {
  const out: Deviation[] = [];
  const br = appBridge(model);
  if (br && br.name !== bridge.name) out.push({ id: 'bridge-renamed', text: `the app bridge is ${br.name}, not the seed's ${bridge.name}`, deliverables: ['1.2-bridge'] });
  const own = br?.addresses.find((a) => a.ip === bridge.ip);
  if (own && own.prefix !== bridge.prefix && namespaces.every((n) => cidrHas(`${own.ip}/${own.prefix}`, n.ip))) {
    out.push({
      id: 'bridge-prefix',
      text: `${br!.name} has ${bridge.ip}/${own.prefix}, not /${bridge.prefix}: it covers the six namespaces, not all of ${SUBNET}`,
      deliverables: ['1.2-bridge', '1.2-diagram'],
    });
  }
  for (const n of namespaces) {
    const a = nsLink(model, n.name)?.addresses.find((x) => x.ip === n.ip);
    if (a && a.prefix !== bridge.prefix && cidrHas(`${a.ip}/${a.prefix}`, bridge.ip)) {
      out.push({ id: 'namespace-prefix', text: `${n.name} has ${n.ip}/${a.prefix}, not /${bridge.prefix}`, deliverables: ['1.2-veth', '1.2-diagram'] });
    }
  }
  const nginx = nsLink(model, 'nginx-lb');
  const nginxPeer = hostPeer(model, 'nginx-lb');
  if (nginx && nginxPeer && (nginx.name !== nginxVeth.inside || nginxPeer.name !== nginxVeth.onBridge)) {
    out.push({ id: 'veth-renamed', text: `nginx-lb's pair is ${nginx.name} / ${nginxPeer.name}, not the seed's ${nginxVeth.inside} / ${nginxVeth.onBridge}`, deliverables: ['1.2-veth'] });
  }
  out.push(...judgement.deviations);
  if (facts.nginx && !facts.nginx.error && !facts.nginx.health) {
    out.push({
      id: 'nginx-no-health',
      text: `${facts.nginx.configPath} has no \`location /health\` of its own: /health goes on to the gateway`,
      deliverables: ['2.1-health-host', '2.1-health-namespace'],
    });
  }
  return out;
}
