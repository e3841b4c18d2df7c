/**
 * Run inside host A of the two-host platform by observe-two-hosts.test.ts: an observer there,
 * the shop asked through A's port 8080 and an order placed, then one sample; then the VXLAN taken
 * off the lab's bridge (a host of one build, as far as the observer can tell) and a sample again,
 * the VXLAN put back. Prints what it found as one JSON line.
 */
import { execFileSync } from 'node:child_process';
import { shopArgv } from '../../src/cli/virtual-hosts.ts';
import { order } from '../../src/grader/contract.ts';
import { runDirAt } from '../../src/host/run-dir.ts';
import { startObserver } from '../../src/observe/observer.ts';
import type { Snapshot } from '../../src/observe/types.ts';
import { twoHosts } from '../../src/topology/two-hosts.ts';

const run = (argv: string[]): string => execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
const { name: vxlan } = twoHosts.hosts!.overlay;
const found = (s: Snapshot) => ({
  overlay: s.overlay,
  remote: s.endpoints.filter((e) => e.kind === 'remote').map((e) => ({ id: e.id, across: e.across })),
  pairs: s.pairs
    .filter((p) => s.endpoints.some((e) => e.kind === 'remote' && (e.id === p.from || e.id === p.to)))
    .map((p) => ({ from: p.from, to: p.to, port: p.port, bytes: p.bytesOut + p.bytesIn })),
  health: s.health.filter((h) => h.across).map((h) => ({ name: h.name, healthy: h.healthy, detail: h.detail, across: h.across })),
  cpuPercent: s.observer.cpuPercent,
  sampleMs: s.observer.sampleMs,
});

// Rediscovered every sample: the VXLAN leaving the bridge is seen at once.
const observer = await startObserver({ runDir: runDirAt('/run/ecomnet-observe-two-hosts'), intervalMs: 3_600_000, rediscoverMs: 0 });
for (let i = 0; i < 5; i++) run(shopArgv(twoHosts));
run([...shopArgv(twoHosts, '/api/orders'), '-H', 'Content-Type: application/json', '-d', JSON.stringify(order)]);
const twoHost = found(await observer.sample());
run(['ip', 'link', 'set', vxlan, 'nomaster']);
let oneHost: ReturnType<typeof found>;
try {
  oneHost = found(await observer.sample());
} finally {
  run(['ip', 'link', 'set', vxlan, 'master', twoHosts.app.bridge.name]);
}
await observer.stop();
console.log(JSON.stringify({ twoHost, oneHost }));
