/**
 * Files a discovered process names (nginx's -c, a service's script, what includes pull in) are
 * read by verify as root (issue 21, finding 9): a FIFO must not hang it, a device or a huge file
 * must not exhaust it. No network: the model has no app bridge, so nothing is probed.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { constants } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { HostModel, Namespace } from '../../src/grader/model.ts';
import { gatherServiceFacts, MAX_FILE_READ } from '../../src/grader/service-facts.ts';

const dir = mkdtempSync(join(tmpdir(), 'ecomnet-facts-'));
const fifo = join(dir, 'fifo.conf');
const fifoScript = join(dir, 'order.py');
const huge = join(dir, 'huge.conf');
const zero = join(dir, 'product.py');
execFileSync('mkfifo', [fifo, fifoScript]);
// Sparse: as large as a log left to grow, costing no disk.
writeFileSync(huge, '');
truncateSync(huge, 64 * MAX_FILE_READ);
symlinkSync('/dev/zero', zero);

afterAll(async () => {
  // A reader stuck opening a FIFO (the bug) is let go: a writer opens it and closes.
  for (const f of [fifo, fifoScript]) await (await open(f, constants.O_WRONLY | constants.O_NONBLOCK).catch(() => undefined))?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A lab whose processes are this one (so /proc/PID/root and cwd are real) with argv naming `files`. */
function labNaming(files: { nginxConf: string; order: string; product: string }): HostModel {
  const ns = (name: string, comm: string, argv: string[]): Namespace => ({ name, links: [], routes: [], listeners: [], processes: [{ pid: process.pid, comm, argv }] });
  return {
    at: new Date().toISOString(),
    host: { links: [], routes: [], listeners: [] },
    namespaces: [
      ns('nginx-lb', 'nginx', [`nginx: master process nginx -c ${files.nginxConf}`]),
      ns('order-service', 'python3', ['python3', files.order]),
      ns('product-service', 'python3', ['python3', files.product]),
    ],
    sysctl: {},
    iptables: { backend: 'nft', save: '' },
  };
}

describe('verify reads only regular files a process names, and only so much of each', () => {
  it('a FIFO as the nginx configuration and as a service script: verify goes on, saying why it did not read them', async () => {
    const facts = await gatherServiceFacts(labNaming({ nginxConf: fifo, order: fifoScript, product: fifoScript }));
    expect(facts.nginx?.error).toMatch(/not a regular file/);
    expect(facts.orderDb).toBeUndefined();
  });

  it('/dev/zero behind a script name, and a configuration larger than the cap: bounded reads', async () => {
    const facts = await gatherServiceFacts(labNaming({ nginxConf: huge, order: zero, product: zero }));
    expect(facts.nginx?.error).toBeUndefined();
    expect(facts.nginx?.config?.length).toBeLessThanOrEqual(MAX_FILE_READ + huge.length + 3);
    expect(facts.productRedis).toBeUndefined();
  });
});
