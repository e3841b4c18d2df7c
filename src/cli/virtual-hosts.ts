/**
 * `ecomnet up --topology two-hosts --virtual-hosts`: every host of a multi-host topology in a
 * virtual host of its own on this machine (src/vhost/hosts.ts), their eth0s on one underlay, each
 * running `ecomnet up --host NAME` with one shared set of secrets: course day 6 without a second
 * machine. Nothing of it touches this machine; it all goes when the virtual hosts do.
 */
import { fileURLToPath } from 'node:url';
import { newSecrets } from '../runtime/secrets.ts';
import { hostPort } from '../topology/default.ts';
import { OUTSIDE } from '../topology/outside.ts';
import type { Topology } from '../topology/types.ts';
import { virtualHostsOf } from '../vhost/hosts.ts';
import type { VirtualHost } from '../vhost/vhost.ts';

const checkout = fileURLToPath(new URL('../..', import.meta.url));
/** Where each host finds the shared secrets: its own /run, which only it sees. */
const SHARED_SECRETS = '/run/ecomnet-shared-secrets.json';
/** Each host's data root: a path this machine does not have, so nothing of its own (kept data, a template being made) shows through the host's copy of /var. */
export const VIRTUAL_HOST_DATA = '/var/lib/ecomnet-virtual-host';

export interface HostsUp {
  /** In the topology's order of hosts. */
  hosts: { name: string; vh: VirtualHost }[];
  /** Ends every host and all that runs in it. */
  destroy(): Promise<void>;
}

/**
 * Brings each host's half up, all at once. `topologyArg` is what each host's `up --topology` is given.
 */
export async function upInVirtualHosts(t: Topology, topologyArg: string, o: { data: string; policy: string; networkOnly?: boolean; say: (line: string) => void }): Promise<HostsUp> {
  if (!t.hosts) throw new Error(`topology ${t.tag} has one host: --virtual-hosts brings up a multi-host topology (--topology two-hosts)`);
  const vhs = await virtualHostsOf(t.hosts, { world: false });
  const hosts = t.hosts.list.map((h, i) => ({ name: h.name, spec: h, vh: vhs[i]! }));
  const destroy = async () => {
    await Promise.all(vhs.map((v) => v.destroy()));
  };
  try {
    const secrets = JSON.stringify(newSecrets());
    await Promise.all(hosts.map(({ vh }) => vh.exec(['sh', '-c', `umask 077 && cat >${SHARED_SECRETS}`], { input: secrets })));
    // Side by side: a service whose data server is on another host retries until it answers (the order service until PostgreSQL has its roles).
    await Promise.all(
      hosts.map(async ({ name, vh }) => {
        const r = await vh.exec(
          [
            'env',
            `ECOMNET_DATA_DIR=${VIRTUAL_HOST_DATA}`,
            process.execPath,
            'bin/ecomnet.js',
            'up',
            '--detach',
            '--topology',
            topologyArg,
            '--host',
            name,
            '--secrets',
            SHARED_SECRETS,
            '--data',
            o.data,
            '--policy',
            o.policy,
          ],
          { cwd: checkout, allowFail: true },
        );
        if (r.exitCode !== 0) throw new Error(`${name}: ecomnet up exited ${r.exitCode}:\n${(r.stdout + r.stderr).trim()}`);
        o.say(
          r.stdout
            .trim()
            .split('\n')
            .filter((l) => /^\s+✓|^up in/.test(l))
            .map((l) => `  ${name}: ${l.trim()}`)
            .join('\n'),
        );
      }),
    );
    return { hosts: hosts.map(({ name, vh }) => ({ name, vh })), destroy };
  } catch (e) {
    await destroy();
    throw e;
  }
}

/** The shop as host A's external client sees it: `curl` of its port 8080 from outside, the way a visitor comes. */
export function shopArgv(t: Topology, path = '/api/products'): string[] {
  return ['ip', 'netns', 'exec', OUTSIDE.client.ns, 'curl', '-sS', '-m', '5', `http://${OUTSIDE.host.ip}:${hostPort(t)}${path}`];
}
