/** `ecomnet status`'s table: the platform's status (src/runtime/status.ts) as a person reads it. */
import type { NodeStatus } from '../runtime/status.ts';
import { table } from '../util/text.ts';

export function statusTable(nodes: NodeStatus[]): string {
  return table([
    ['NAMESPACE', 'IP', 'SERVICE', 'ADDRESS', 'PID', 'RESTARTS', 'HEALTH'],
    ...nodes.map((n) => [
      n.namespace + (n.exists ? '' : ' (missing)'),
      n.ip,
      n.service ?? n.role,
      n.address ?? '-',
      n.pid ? String(n.pid) : '-',
      n.restarts === undefined ? '-' : `${n.restarts}${n.gaveUp ? ' (gave up)' : n.held ? ' (held)' : ''}`,
      n.health,
    ]),
  ]);
}
