import { readFileSync } from 'node:fs';
import { parseCidr, parseIp } from './ipv4.ts';
import type { Component, Topology } from './types.ts';
import { TopologyError, validate } from './validate.ts';

/** Checks one value at `at` (a path such as app.nodes[2].ip), adding what is wrong to `problems`. */
type Spec = (v: unknown, at: string, problems: string[]) => void;

const shown = (v: unknown): string => JSON.stringify(v) ?? String(v);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const keyAt = (at: string, k: string) => (at ? `${at}.${k}` : k);

/** Every component, so a data file can name only these (the compiler keeps the list complete). */
const COMPONENTS: Record<Component, true> = { nginx: true, gateway: true, product: true, order: true, redis: true, postgres: true, client: true, internet: true };

const text =
  (ok: (s: string) => boolean, what: string): Spec =>
  (v, at, problems) => {
    if (typeof v !== 'string' || !ok(v)) problems.push(`${at}: ${shown(v)} is not ${what}`);
  };

const integer =
  (min: number, max: number, what: string): Spec =>
  (v, at, problems) => {
    if (!Number.isInteger(v) || (v as number) < min || (v as number) > max) problems.push(`${at}: ${shown(v)} is not ${what}`);
  };

const list =
  (item: Spec): Spec =>
  (v, at, problems) => {
    if (!Array.isArray(v)) problems.push(`${at}: ${shown(v)} is not a list`);
    else for (const [i, x] of v.entries()) item(x, `${at}[${i}]`, problems);
  };

/** An object with exactly these fields (those in `optional` may be absent), each checked. */
const object =
  (fields: Record<string, Spec>, optional: string[] = []): Spec =>
  (v, at, problems) => {
    if (!isObject(v)) return void problems.push(`${at || 'the topology'}: ${shown(v)} is not an object`);
    for (const k of Object.keys(v)) if (!Object.hasOwn(fields, k)) problems.push(`${keyAt(at, k)}: no such field`);
    for (const [k, spec] of Object.entries(fields)) {
      if (v[k] !== undefined) spec(v[k], keyAt(at, k), problems);
      else if (!optional.includes(k)) problems.push(`${keyAt(at, k)}: missing`);
    }
  };

// Names and addresses end up in ip -batch lines and iptables-restore text: nothing but their characters.
const name = text((s) => /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(s), "a name (letters, digits, '.', '_', '-')");
const ip = text((s) => parseIp(s) !== undefined, 'an IPv4 address');
const subnet = text((s) => /^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(s) && parseCidr(s) !== undefined, 'an IPv4 CIDR (a.b.c.d/n)');
const port = integer(1, 65535, 'a port (1..65535)');

const node = object(
  {
    name,
    ip,
    veth: name,
    role: text((s) => s.length > 0 && !/\p{Cc}/u.test(s), 'one line of text'),
    component: text((s) => Object.hasOwn(COMPONENTS, s), `one of ${Object.keys(COMPONENTS).join(', ')}`),
    port,
  },
  ['component', 'port'],
);

const segment = object(
  {
    subnet,
    bridge: object({ name, ip }),
    nodes: list(node),
    remote: list(node),
  },
  ['remote'],
);

const topologySpec = object(
  {
    tag: text((s) => s.length > 0, 'a tag'),
    app: segment,
    outside: segment,
    portForwards: list(object({ hostPort: port, node: name, port })),
    published: object({ postgres: port, redis: port }),
    flows: list(object({ from: name, to: name, port, why: text((s) => s.length > 0 && !/\p{Cc}/u.test(s), 'one line of text') }, ['port'])),
    hosts: object({
      underlay: object({ subnet, dev: name, mtu: integer(1330, 9000, 'an MTU (1330..9000)'), router: ip }),
      overlay: object({ name, vni: integer(1, 0xffffff, 'a VNI (1..16777215)'), port }),
      list: list(object({ name, underlay: ip, bridge: ip, nodes: list(name) })),
    }),
    here: name,
  },
  ['published', 'flows', 'hosts', 'here'],
);

/**
 * A topology read as data: every field of the schema with its type and nothing else, then
 * validate() on the whole (names, addresses, subnets, tag). Every problem at once.
 */
export function parseTopology(raw: unknown): Topology {
  const problems: string[] = [];
  topologySpec(raw, '', problems);
  if (problems.length) throw new TopologyError(problems);
  const t = raw as Topology;
  validate(t);
  return t;
}

/**
 * `--topology FILE`: JSON, never a module. `up` and `down` run as root, and importing a module
 * would run whatever code it holds.
 */
export function readTopologyFile(file: string): Topology {
  const content = readFileSync(file, 'utf8');
  let raw: unknown;
  try {
    raw = JSON.parse(content);
  } catch (e) {
    throw new Error(`${file} is not JSON (${(e as Error).message}): --topology takes a topology as JSON data, in the shape of src/topology/default.ts`);
  }
  return parseTopology(raw);
}
