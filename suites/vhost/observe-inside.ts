/**
 * Run inside a virtual host by observe-holders.test.ts: an observer on a lab namespace and a
 * foreign one; the lab namespace's processes killed as the supervisor or a cleanup kills them (its
 * holder too), the holder's pid then given to a stranger in the foreign namespace. Prints what it
 * found as one JSON line.
 */
import { execFileSync } from 'node:child_process';
import { runDirAt } from '../../src/host/run-dir.ts';
import { startObserver } from '../../src/observe/observer.ts';
import { until } from '../../src/util/wait.ts';

const sh = (cmd: string): string => execFileSync('sh', ['-c', cmd], { encoding: 'utf8' }).trim();
const LAB = process.argv[2]!;
const FOREIGN = 'someone-elses';
/** A foreign namespace as seen from outside it: accounting, our chain there or not, processes. */
const foreign = () =>
  sh(`echo "$(ip netns exec ${FOREIGN} sysctl -n net.netfilter.nf_conntrack_acct) $(ip netns exec ${FOREIGN} iptables -w -S | grep -c OBSERVE) $(ip netns pids ${FOREIGN} | wc -l)"`);
/** The tail holding the lab namespace, if any. */
const holder = () => Number(sh(`for p in $(ip netns pids ${LAB}); do [ "$(cat /proc/$p/comm)" = tail ] && echo $p; done; true`)) || undefined;
const ifacesOf = (s: { interfaces: { namespace: string; name: string }[] }) => s.interfaces.map((i) => `${i.namespace}/${i.name}`).sort();

sh(`ip netns add ${LAB} && ip -n ${LAB} link add lab0 type veth peer name lab1 && ip -n ${LAB} link set lab0 up
ip netns add ${FOREIGN} && ip -n ${FOREIGN} link add stranger0 type veth peer name stranger1 && ip -n ${FOREIGN} link set stranger0 up`);
const foreignBefore = foreign();
const observer = await startObserver({ runDir: runDirAt('/run/ecomnet-observe-inside'), intervalMs: 3_600_000 });
const foreignDuring = foreign();
const first = await observer.sample();
const h1 = holder();
// What the supervisor, a fault or a cleanup does: every process in the namespace, SIGKILL.
sh(`ip netns pids ${LAB} | xargs -r kill -9`);
// Dead (a zombie or gone) before the next sample, so that sample finds it so.
await until(() => !/^\d+ \(\S+\) [^Z]/.test(sh(`cat /proc/${h1}/stat 2>/dev/null; true`)), { timeoutMs: 5000, intervalMs: 10 });
const afterKill = await observer.sample();
// The dead holder's pid, once free, to a stranger elsewhere (this PID namespace is the virtual host's: ns_last_pid is ours to set).
let stranger = 0;
const planted = await until(
  () => {
    const pid = Number(sh(`echo ${h1! - 1} >/proc/sys/kernel/ns_last_pid; ip netns exec ${FOREIGN} sleep 600 </dev/null >/dev/null 2>&1 & echo $!`));
    if (pid === h1) stranger = pid;
    else process.kill(pid, 'SIGKILL');
    return stranger > 0;
  },
  { timeoutMs: 10_000, intervalMs: 50 },
);
const last = await observer.sample();
const h2 = holder();
await observer.stop();
let strangerAlive = false;
try {
  process.kill(stranger, 0);
  strangerAlive = true;
} catch {}
console.log(
  JSON.stringify({ foreignBefore, foreignDuring, h1, h2, planted, stranger, strangerAlive, first: ifacesOf(first), afterKill: ifacesOf(afterKill), last: ifacesOf(last), notes: last.notes }),
);
