/** Faults of the bridge, the namespaces and their veth pairs: the network of task 1.2. */
import { shellWord } from '../checks/trial.ts';
import { contains, parseCidr, parseIp } from '../../topology/ipv4.ts';
import { bridge, namespaces } from '../contract.ts';
import { hostPeer, namespaceOf, nsLink } from '../find.ts';
import { type Ctx, type Fault, type Name, NAMES, SUBNET, ip, inNs, vethSetup } from './common.ts';

export function bridgeFaults(ctx: Ctx): Fault[] {
  const { model, br, brName } = ctx;
  if (!br) {
    const attach = NAMES.flatMap((n) => {
      const peer = hostPeer(model, n);
      return peer ? [`sudo ip link set ${shellWord(peer.name)} master ${shellWord(bridge.name)}`] : [];
    });
    return [
      {
        id: 'bridge-missing',
        cause: `no bridge holds the namespaces' veths and none is named ${bridge.name}: the namespaces share no network and the host has no ${bridge.ip}`,
        fix: [`sudo ip link add ${bridge.name} type bridge`, `sudo ip addr add ${bridge.ip}/${bridge.prefix} dev ${bridge.name}`, `sudo ip link set ${bridge.name} up`, ...attach].join(' && '),
        breaks: ['bridge', 'bridge-ip', ...NAMES.map((n) => `attach:${n}`), 'drawn'],
      },
    ];
  }
  const out: Fault[] = [];
  if (!br.up) out.push({ id: 'bridge-down', cause: `${brName} is down: nothing crosses it`, fix: `sudo ip link set ${shellWord(brName)} up`, breaks: ['bridge', 'bridge-ip', 'drawn'] });
  const own = br.addresses.find((a) => a.ip === bridge.ip);
  const has = br.addresses.map((a) => `${a.ip}/${a.prefix}`).join(', ');
  if (!own) {
    out.push({
      id: 'bridge-address-missing',
      cause: `${brName} has ${has ? has : 'no address'}, not ${bridge.ip}: the namespaces' default gateway is missing and the host has no route into ${SUBNET}`,
      fix: `sudo ip addr add ${bridge.ip}/${bridge.prefix} dev ${shellWord(brName)}`,
      breaks: ['bridge-ip', 'drawn'],
    });
  } else {
    const net = parseCidr(`${own.ip}/${own.prefix}`)!;
    const outside = namespaces.filter((n) => !contains(net, parseIp(n.ip)!)).map((n) => n.ip);
    if (outside.length) {
      out.push({
        id: 'bridge-address-wrong',
        cause: `${bridge.ip}/${own.prefix} on ${brName} does not cover ${outside.join(', ')}: the host has no route to them`,
        fix: `sudo ip addr del ${bridge.ip}/${own.prefix} dev ${shellWord(brName)} && sudo ip addr add ${bridge.ip}/${bridge.prefix} dev ${shellWord(brName)}`,
        breaks: ['bridge-ip', 'drawn'],
      });
    }
  }
  return out;
}

export function namespaceFaults(ctx: Ctx): Fault[] {
  const { model, br, brName } = ctx;
  const present = NAMES.filter((n) => namespaceOf(model, n));
  const missing: Fault[] = NAMES.filter((n) => !namespaceOf(model, n)).map((n) => ({
    id: 'namespace-missing',
    cause: `namespace ${n} does not exist, so neither does its veth, ${ip(n)} or its service`,
    fix: `sudo ip netns add ${n} && ${vethSetup(n, brName)}`,
    breaks: [`ns:${n}`, 'drawn'],
  }));
  const withLink = present.filter((n) => nsLink(model, n));
  const vethMissing: Fault[] = present
    .filter((n) => !nsLink(model, n))
    .map((n) => ({
      id: 'veth-missing',
      cause: `${n} has no interface on ${SUBNET} (only lo): it is not connected to ${brName}`,
      fix: vethSetup(n, brName),
      breaks: [`link:${n}`, `addr:${n}`, `attach:${n}`, `peer-up:${n}`, 'drawn'],
    }));
  const linkOf = (n: Name) => nsLink(model, n)!;
  const vethDown: Fault[] = withLink
    .filter((n) => !linkOf(n).up)
    .map((n) => ({ id: 'veth-down', cause: `${linkOf(n).name} in ${n} is down`, fix: inNs(n, `ip link set ${linkOf(n).name} up`), breaks: [`link:${n}`, 'drawn'] }));
  const address: Fault[] = withLink.flatMap((n): Fault[] => {
    const l = linkOf(n);
    const own = l.addresses.find((a) => a.ip === ip(n));
    const add = inNs(n, `ip addr add ${ip(n)}/${bridge.prefix} dev ${l.name}`);
    if (!own && !l.addresses.length)
      return [{ id: 'address-missing', cause: `${l.name} in ${n} has no address; the seed gives it ${ip(n)}/${bridge.prefix}`, fix: add, breaks: [`addr:${n}`, 'drawn'] }];
    if (!own) {
      const wrong = l.addresses.map((a) => `${a.ip}/${a.prefix}`);
      return [
        {
          id: 'address-wrong',
          cause: `${l.name} in ${n} has ${wrong.join(', ')}, not ${ip(n)}: the others reach ${n} at ${ip(n)}`,
          fix: [...wrong.map((w) => inNs(n, `ip addr del ${w} dev ${l.name}`)), add].join(' && '),
          breaks: [`addr:${n}`, 'drawn'],
        },
      ];
    }
    // A prefix that leaves out the gateway makes `default via 10.0.0.1` impossible.
    if (!contains(parseCidr(`${own.ip}/${own.prefix}`)!, parseIp(bridge.ip)!)) {
      return [
        {
          id: 'address-wrong',
          cause: `${ip(n)}/${own.prefix} in ${n} does not cover the gateway ${bridge.ip}`,
          fix: `${inNs(n, `ip addr del ${ip(n)}/${own.prefix} dev ${l.name}`)} && ${add}`,
          breaks: [`addr:${n}`, 'drawn'],
        },
      ];
    }
    return [];
  });
  const detached: Fault[] = [];
  const peerDown: Fault[] = [];
  for (const n of withLink) {
    const l = linkOf(n);
    const peer = hostPeer(model, n);
    if (!peer) {
      const where = l.peer?.namespace ? `is in namespace ${l.peer.namespace}` : l.kind === 'veth' ? 'is not on the host' : `does not exist (${l.name} is a ${l.kind}, not a veth)`;
      detached.push({
        id: 'veth-peer-detached',
        cause: `the other end of ${l.name} (${n}) ${where}: ${n} is not connected to ${brName}`,
        fix: `${inNs(n, `ip link del ${l.name}`)} && ${vethSetup(n, brName)}`,
        breaks: [`attach:${n}`, `peer-up:${n}`, 'drawn'],
      });
      continue;
    }
    // Without a bridge, bridge-missing already says where every peer goes.
    if (br && peer.master !== brName) {
      detached.push({
        id: 'veth-peer-detached',
        cause: `${peer.name}, the host end of ${n}'s ${l.name}, is ${peer.master ? `a port of ${peer.master}` : 'on no bridge'}, not ${brName}`,
        fix: `sudo ip link set ${shellWord(peer.name)} master ${shellWord(brName)}`,
        breaks: [`attach:${n}`, 'drawn'],
      });
    }
    if (!peer.up)
      peerDown.push({ id: 'veth-peer-down', cause: `${peer.name}, the host end of ${n}'s ${l.name}, is down`, fix: `sudo ip link set ${shellWord(peer.name)} up`, breaks: [`peer-up:${n}`, 'drawn'] });
  }
  const lo: Fault[] = present
    .filter((n) => namespaceOf(model, n)!.links.some((l) => l.kind === 'loopback' && !l.up))
    .map((n) => ({ id: 'lo-down', cause: `lo is down in ${n}: nothing there reaches localhost`, fix: inNs(n, 'ip link set lo up'), breaks: [`lo:${n}`] }));
  const route: Fault[] = withLink.flatMap((n): Fault[] => {
    const def = namespaceOf(model, n)!.routes.find((r) => r.dst === 'default');
    if (def?.via === bridge.ip) return [];
    return [
      {
        id: 'default-route-missing',
        cause: def ? `${n}'s default route goes via ${def.via ?? def.dev}, not ${bridge.ip}` : `${n} has no default route via ${bridge.ip}: it cannot answer or reach anything beyond ${SUBNET}`,
        fix: inNs(n, `ip route ${def ? 'replace' : 'add'} default via ${bridge.ip}`),
        breaks: [`route:${n}`],
      },
    ];
  });
  return [...missing, ...vethMissing, ...vethDown, ...address, ...detached, ...peerDown, ...lo, ...route];
}
