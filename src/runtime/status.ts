/** The platform as it is: each node, its service, pid, restarts and health, read from the state, the supervisor and the live host. */
import { existsSync } from 'node:fs';
import { publishedAt } from '../topology/default.ts';
import type { RunDir } from '../host/run-dir.ts';
import { readState } from '../host/state.ts';
import { listNamespaces } from '../host/links.ts';
import { alive } from '../host/proc.ts';
import { heldServices, readFaults } from './faults.ts';
import { readSupervision } from './supervisor.ts';
import { readSecrets } from './secrets.ts';
import type { Login } from '../net/readiness.ts';
import type { Component, DataComponent, NodeSpec, Topology } from '../topology/types.ts';

export interface NodeStatus {
  namespace: string;
  ip: string;
  role: string;
  exists: boolean;
  service?: string;
  address?: string;
  pid?: number;
  running?: boolean;
  /** How often the supervisor (or Docker, for a data container) restarted it, and whether it gave up. */
  restarts?: number;
  gaveUp?: string;
  /** Kept down by `ecomnet fault kill --hold` until `ecomnet fault clear`. */
  held?: boolean;
  health: 'healthy' | 'unhealthy' | 'n/a';
}

export interface PlatformStatus {
  up: boolean;
  startedAt?: string;
  nodes: NodeStatus[];
}

export async function status(topology: Topology, dir: RunDir): Promise<PlatformStatus> {
  const state = readState(dir);
  const supervision = state?.supervisor ? readSupervision(dir) : undefined;
  const live = await listNamespaces();
  // Probed only through its segment's bridge: without it, the address would leave by the default route.
  const bridged = (n: NodeSpec) => existsSync(`/sys/class/net/${(topology.app.nodes.includes(n) ? topology.app : topology.outside).bridge.name}`);
  // A data container is Docker's, not the supervisor's: its hold is known from the fault record alone.
  const held = heldOf(topology, dir);
  // Containers mode: the data layer answers on the bridge gateway, its namespaces stay empty.
  const inContainer = (n: NodeSpec): n is NodeSpec & { component: DataComponent } => Boolean(state?.containers.length) && (n.component === 'postgres' || n.component === 'redis');
  const secrets = readSecrets(dir);
  // The run's passwords go only to servers the platform started (the handshake's test): the host
  // read once for all, from the start, beside the probes that will ask.
  const handshake = secrets ? import('./handshake.ts') : undefined;
  const host = secrets ? import('../grader/discover.ts').then((d) => d.discover()) : undefined;
  host?.catch(() => {});
  const trust = async (l: Login) => (await handshake!).mayReceive(dir, l, () => host!);
  // The question start asks (src/net/readiness.ts), on a connection of its own: status looks once and exits.
  // Loaded here: its clients cost `up --network-only`, which probes nothing, tens of milliseconds.
  const healthOf = async (c: Component | undefined) => {
    if (!c) return false;
    const { platformReadiness } = await import('./platform-readiness.ts');
    const r = platformReadiness(c, topology, { data: state?.options.data ?? 'native', secrets, as: 'look', trust });
    return r !== undefined && (await r.probe()).healthy;
  };
  const nodes = await Promise.all(
    [...topology.app.nodes, ...topology.outside.nodes].map(async (n): Promise<NodeStatus> => {
      const rec = state?.services.find((s) => s.name === n.component);
      const base: NodeStatus = { namespace: n.name, ip: n.ip, role: n.role, exists: live.includes(n.name), health: 'n/a' };
      if (inContainer(n)) {
        const at = publishedAt(n.component, topology);
        const restarts = await containerRestarts(topology.tag, n.component);
        const hold = held.includes(n.component) ? { held: true } : {};
        return {
          ...base,
          service: `${n.component} (container)`,
          address: `${at.host}:${at.port}`,
          restarts,
          ...hold,
          health: bridged(n) && (await healthOf(n.component)) ? 'healthy' : 'unhealthy',
        };
      }
      if (!rec) return base;
      const sup = supervision?.services[rec.name];
      const supervised = sup ? { restarts: sup.restarts, ...(sup.state === 'gave-up' ? { gaveUp: sup.reason } : {}), ...(sup.state === 'held' ? { held: true } : {}) } : {};
      return {
        ...base,
        service: rec.name,
        address: `${n.ip}:${n.port}`,
        pid: rec.pid,
        running: alive(rec.pid),
        ...supervised,
        health: base.exists && bridged(n) && (await healthOf(n.component)) ? 'healthy' : 'unhealthy',
      };
    }),
  );
  return { up: state?.phase === 'up', startedAt: state?.startedAt, nodes };
}

/** The services the fault record holds down; none when it cannot be read (status only shows, it acts on nothing). */
function heldOf(t: Topology, dir: RunDir): string[] {
  try {
    return heldServices(readFaults(dir, t));
  } catch {
    return [];
  }
}

/** Docker's restart count of a data container (containers mode); undefined when no engine answers. */
async function containerRestarts(tag: string, c: DataComponent): Promise<number | undefined> {
  try {
    const { containerName, engine } = await import('./engine.ts');
    return (await (await engine()).getContainer(containerName(tag, c)).inspect()).RestartCount;
  } catch {
    return undefined;
  }
}
