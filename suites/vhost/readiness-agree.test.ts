/**
 * Issue 22: one meaning of "healthy". With the platform up in a virtual host, product and Redis
 * are held down and strangers take their addresses: an HTTP server answering 500 on product's,
 * and a listener that speaks no Redis (it answers every command with an error) on Redis's.
 * `ecomnet status` and `ecomnet observe` must both call each unhealthy, as start's wait does
 * (suites/unit/readiness.test.ts: the same values refuse both), instead of one of them counting
 * an open port or any answer as up.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeOf } from '../../src/topology/default.ts';
import { VirtualHost } from '../../src/vhost/vhost.ts';

const root = join(import.meta.dirname, '..', '..');
const product = nodeOf('product');
const redis = nodeOf('redis');

/** The strangers: each a Node one-liner in the held service's namespace, on its address. */
const strangers = [
  `ip netns exec ${product.name} ${process.execPath} -e "require('node:http').createServer((q, s) => { s.statusCode = 500; s.end('broken'); }).listen(${product.port}, '${product.ip}')" > /dev/null 2>&1 &`,
  `ip netns exec ${redis.name} ${process.execPath} -e "require('node:net').createServer((s) => s.on('data', () => s.write('-ERR not redis\\r\\n'))).listen(${redis.port}, '${redis.ip}')" > /dev/null 2>&1 &`,
];

const script = `set -e
export PATH=${join(process.execPath, '..')}:$PATH
cd ${root}
node bin/ecomnet.js up --detach > /tmp/up.log 2>&1 || { cat /tmp/up.log >&2; exit 1; }
node bin/ecomnet.js fault kill product --hold > /dev/null
node bin/ecomnet.js fault kill redis --hold > /dev/null
${strangers.join('\n')}
for i in $(seq 100); do
  if ip netns exec ${product.name} ss -Hltn 'sport = :${product.port}' | grep -q . && ip netns exec ${redis.name} ss -Hltn 'sport = :${redis.port}' | grep -q .; then break; fi
  sleep 0.1
done
node bin/ecomnet.js status --json > /tmp/status.json
node bin/ecomnet.js observe --once --json > /tmp/observe.json
echo "STATUS $(tr -d '\\n' < /tmp/status.json)"
echo "OBSERVE $(tr -d '\\n' < /tmp/observe.json)"
`;

describe('status and observe agree with start on what healthy means', () => {
  it('a stranger answering 500 where product was, and one speaking no Redis where Redis was: both unhealthy to status and observe', async () => {
    const vh = await VirtualHost.create({ world: false, label: 'readiness' });
    try {
      const r = await vh.exec(['bash', '-c', script], { allowFail: true, timeoutMs: 120_000 });
      expect(r.exitCode, r.stderr).toBe(0);
      const line = (mark: string) =>
        JSON.parse(
          r.stdout
            .split('\n')
            .find((l) => l.startsWith(`${mark} `))!
            .slice(mark.length + 1),
        );
      const status = line('STATUS') as { nodes: { namespace: string; health: string }[] };
      const observed = line('OBSERVE') as { health: { name: string; healthy: boolean; detail: string }[] };
      const statusOf = (ns: string) => status.nodes.find((n) => n.namespace === ns)?.health;
      const observeOf = (ns: string) => observed.health.find((h) => h.name === ns);
      console.log(`status: product ${statusOf(product.name)}, redis ${statusOf(redis.name)}; observe: product ${observeOf(product.name)?.detail}, redis ${observeOf(redis.name)?.detail}`);
      expect(statusOf(product.name), 'status of a 500').toBe('unhealthy');
      expect(observeOf(product.name)?.healthy, 'observe of a 500').toBe(false);
      expect(statusOf(redis.name), 'status of a listener that speaks no Redis').toBe('unhealthy');
      expect(observeOf(redis.name)?.healthy, 'observe of a listener that speaks no Redis').toBe(false);
      // The others still answer: the verdicts are about the strangers, not a platform that is down.
      expect(statusOf(nodeOf('gateway').name)).toBe('healthy');
      expect(observeOf(nodeOf('gateway').name)?.healthy).toBe(true);
    } finally {
      await vh.destroy();
    }
  }, 150_000);
});
