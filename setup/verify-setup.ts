import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { topology } from '../fixtures/topology.ts';
import { discover, SYSCTL_KEYS } from '../src/grader/discover.ts';
import { labLines } from '../src/grader/lab-lines.ts';
import { attachProbe } from '../src/grader/probe.ts';
import { run } from '../src/host/exec.ts';
import { detectBackend } from '../src/host/iptables.ts';
import { runDirAt } from '../src/host/run-dir.ts';
import { diffSnapshots, listDiff, snapshotHost } from '../src/host/snapshot.ts';
import { reportPaths } from '../src/report/paths.ts';
import { recordFailureOf } from '../src/report/run-errors.ts';
import { buildProbePlan } from '../src/plan/plan.ts';
import { VERIFY_MODE } from '../src/report/types.ts';

const log = (step: string, ms: number) => console.log(`[verify] ✓ ${step} (${ms.toFixed(0)} ms)`);
/** The sysctls a build of the lab sets or depends on: verify must leave them as it found them. */
const sysctls = [...SYSCTL_KEYS];

/**
 * ECOMNET_TARGET=existing: judge the platform already on the host. Nothing is built; only the
 * probe (an outside client and internet of our own) is added, and removed afterwards; the run
 * fails if the platform is not exactly as it was (namespaces, links, addresses, routes, rules,
 * sysctls, the processes in its namespaces).
 */
export default async function setup(project: TestProject) {
  const teardown = await recordFailureOf('verify setup', () => attach(project));
  return () => recordFailureOf('verify teardown', teardown);
}

async function attach(project: TestProject) {
  const backend = await detectBackend();
  // verify's probe: its namespaces, bridge and veth ends are its own to add and remove.
  const probe = buildProbePlan(topology);
  const probeLinks = [...probe.bridges, ...probe.veths];
  const lab = async () => labLines(await discover(), probeLinks);
  const before = { host: await snapshotHost(backend, sysctls), lab: await lab() };
  const dir = runDirAt();
  const added = await attachProbe(dir, log);
  const evidence = reportPaths().evidence;
  mkdirSync(evidence, { recursive: true });
  writeFileSync(
    join(evidence, 'meta.json'),
    JSON.stringify({ mode: VERIFY_MODE, kernel: (await run(['uname', '-r'])).stdout.trim(), iptablesBackend: backend.name, node: process.version, startedAt: new Date().toISOString() }),
  );
  // Where an ecomnet platform keeps its per-run secrets, when the platform on the host is ecomnet's.
  project.provide('runDir', dir.root);
  return async () => {
    await added.release();
    const diff = [...diffSnapshots(before.host, await snapshotHost(backend, sysctls)), ...listDiff('lab', before.lab, await lab())];
    if (diff.length) throw new Error(`verify changed the platform it judged:\n  ${diff.join('\n  ')}`);
  };
}
