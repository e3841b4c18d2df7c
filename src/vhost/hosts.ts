import { prefixOf } from '../topology/ipv4.ts';
import type { Hosts } from '../topology/types.ts';
import { VirtualHost, type VirtualHostOptions } from './vhost.ts';

/**
 * The machines of a multi-host lab, as virtual hosts: one per host of `hosts`, in its order,
 * their eth0s on one LAN (the underlay) at their declared addresses. The LAN is the first host's
 * world: with `world` (the default) its external client and internet host are on it too, and
 * every host routes out through the world's router; without, a bare switch. Each is destroyed on its
 * own (the LAN goes with the first).
 */
export async function virtualHostsOf(hosts: Hosts, o: Omit<VirtualHostOptions, 'world' | 'label'> & { world?: boolean } = {}): Promise<VirtualHost[]> {
  const prefix = prefixOf(hosts.underlay.subnet);
  const made: VirtualHost[] = [];
  try {
    const [first, ...rest] = hosts.list;
    if (!first) throw new Error('a multi-host lab needs at least one host');
    made.push(await VirtualHost.create({ ...o, label: first.name, world: o.world === false ? 'lan' : true }));
    made.push(...(await Promise.all(rest.map((h) => VirtualHost.create({ ...o, label: h.name, world: false })))));
    const router = o.world === false ? undefined : `${hosts.underlay.router}/${prefix}`;
    for (const [i, h] of rest.entries()) {
      await made[0]!.joinLan(made[i + 1]!, `${h.underlay}/${prefix}`, { ...(i === 0 ? { ownCidr: `${first.underlay}/${prefix}` } : {}), ...(router ? { router } : {}) });
    }
    return made;
  } catch (e) {
    await Promise.all(made.map((v) => v.destroy()));
    throw e;
  }
}
