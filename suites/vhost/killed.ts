/**
 * A process that makes a virtual host and builds a small lab in it, saying each step on its
 * standard output as it reaches it, so a test can kill it with SIGKILL at a moment it chooses.
 * Usage: node killed.ts   (prints "creating", "created PID", then "step NAME" for each step, then "idle").
 */
import { VirtualHost } from '../../src/vhost/vhost.ts';

const say = (line: string) => process.stdout.write(`${line}\n`);
say('creating');
const vh = await VirtualHost.create({ forward: 'docker' });
say(`created ${vh.pid}`);
const steps: [string, string][] = [
  ['namespaces', 'ip netns add nginx-lb && ip netns add api-gateway'],
  ['bridge', 'ip link add br-app type bridge && ip addr add 10.0.0.1/16 dev br-app && ip link set br-app up'],
  ['veth', 'ip link add veth-nginx type veth peer name veth-nginx-br && ip link set veth-nginx netns nginx-lb && ip link set veth-nginx-br master br-app up'],
  ['rules', 'sysctl -qw net.ipv4.ip_forward=1 && iptables -t nat -A POSTROUTING -s 10.0.0.0/16 ! -o br-app -j MASQUERADE && iptables -F FORWARD'],
  ['account', 'useradd --system --no-create-home vhost-test-account'],
  ['server', 'ip netns exec nginx-lb sleep 600 >/dev/null 2>&1 & echo $! > /run/server.pid'],
];
for (const [name, cmd] of steps) {
  say(`step ${name}`);
  await vh.exec(['bash', '-c', cmd]);
}
say('idle');
await new Promise(() => {});
