/**
 * What verify adds to stand outside a build on a real host, as a person's screenshots do: an
 * external client and an internet host (nginx answering with the address it saw) in two
 * namespaces of its own on an uplink bridge of its own, on the grader's documentation addresses
 * (vantage.ts). Recorded, root's, in a directory of the grader's before it is added, so `ecomnet
 * down` or the next verify removes one a killed verify left. Where the host already has that
 * outside segment whole (ecomnet's own platform declares the same), it is used as it is.
 */
import { ipBatch, listLinks, listNamespaces, nsBatches, nsPids, waitGone } from '../host/links.ts';
import { priv, run } from '../host/exec.ts';
import { readJson } from '../util/read-json.ts';
import { setprivArgv } from '../data/privilege.ts';
import { nobody } from '../host/accounts.ts';
import { check, waitFor } from '../util/wait.ts';
import { OUTSIDE } from '../topology/outside.ts';

/** The grader's own directory: root's, readable by all, apart from any platform's. */
export const PROBE_DIR = '/run/ecomnet-verify';
const RECORD = `${PROBE_DIR}/probe.json`;
const INTERNET_CONF = `${PROBE_DIR}/internet.conf`;
/** The internet host's own directory (its pid, log and nginx's temporary files), nobody's: it runs as nobody. */
const INTERNET_DIR = `${PROBE_DIR}/internet`;

const veth = { client: OUTSIDE.client.veth, internet: OUTSIDE.internet.veth } as const;
const NAMESPACES: string[] = [OUTSIDE.client.ns, OUTSIDE.internet.ns];
const prefix = OUTSIDE.host.prefix;

/** Every name the probe adds: the only names its removal acts on, whatever a record says. */
export const probeNames = { namespaces: NAMESPACES, bridges: [OUTSIDE.bridge], veths: [`${veth.client}-br`, `${veth.internet}-br`] };

const hostLines = [
  ...NAMESPACES.map((n) => `netns add ${n}`),
  `link add ${OUTSIDE.bridge} type bridge`,
  `addr add ${OUTSIDE.host.ip}/${prefix} dev ${OUTSIDE.bridge}`,
  `link set ${OUTSIDE.bridge} up`,
  ...(
    [
      [OUTSIDE.client.ns, veth.client],
      [OUTSIDE.internet.ns, veth.internet],
    ] as const
  ).flatMap(([ns, v]) => [`link add ${v}-br type veth peer name ${v} netns ${ns}`, `link set ${v}-br master ${OUTSIDE.bridge}`, `link set ${v}-br up`]),
];
const nodeLines = (v: string, ip: string) => [`addr add ${ip}/${prefix} dev ${v}`, `link set ${v} up`, 'link set lo up', `route add default via ${OUTSIDE.host.ip}`];

/** The internet host's nginx: every request answered with the address it came from; as nobody, it writes only in its own directory. */
const internetConf = `pid ${INTERNET_DIR}/nginx.pid;
error_log ${INTERNET_DIR}/error.log;
events { worker_connections 64; }
http {
    access_log off;
${['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((k) => `    ${k}_temp_path ${INTERNET_DIR}/${k};`).join('\n')}
    server {
        listen ${OUTSIDE.internet.ip}:${OUTSIDE.internet.port};
        location / { default_type text/plain; return 200 "$remote_addr\\n"; }
    }
}
`;

export interface Probe {
  /** False when the outside segment was already there (ecomnet's platform), used as it is. */
  added: boolean;
  release(): Promise<void>;
}

/** Writes a file as root in the grader's directory (made root's if missing): no user's file is followed or trusted. */
async function writeRoot(file: string, content: string): Promise<void> {
  await priv(['install', '-d', '-m', '0755', '-o', 'root', '-g', 'root', PROBE_DIR]);
  await priv(['sh', '-c', 'umask 022; rm -f "$1" && cat > "$1"', 'sh', file], { input: content });
}

export async function attachProbe(progress: (step: string, ms: number) => void = () => {}): Promise<Probe> {
  await removeProbe();
  const [ns, links] = await Promise.all([listNamespaces(), listLinks()]);
  const present = [...NAMESPACES.filter((n) => ns.includes(n)), ...[OUTSIDE.bridge].filter((b) => links.includes(b))];
  if (present.length === NAMESPACES.length + 1) return { added: false, release: async () => {} };
  if (present.length) throw new Error(`verify: ${present.join(', ')} exist but not the whole outside segment; not ours to change (\`ecomnet down\` removes ecomnet's)`);
  await writeRoot(RECORD, `${JSON.stringify(probeNames)}\n`);
  const t0 = performance.now();
  try {
    await ipBatch(hostLines, { what: 'probe host batch' });
    await nsBatches([
      { ns: OUTSIDE.client.ns, lines: nodeLines(veth.client, OUTSIDE.client.ip) },
      { ns: OUTSIDE.internet.ns, lines: nodeLines(veth.internet, OUTSIDE.internet.ip) },
    ]);
    await writeRoot(INTERNET_CONF, internetConf);
    // The outside world runs as nobody, not root: in its own namespace it may bind its port below 1024.
    const account = nobody();
    await priv(['install', '-d', '-m', '0700', '-o', String(account.uid), '-g', String(account.gid), INTERNET_DIR]);
    await priv(['ip', 'netns', 'exec', OUTSIDE.internet.ns, 'sysctl', '-qw', `net.ipv4.ip_unprivileged_port_start=${OUTSIDE.internet.port}`]);
    await priv(['ip', 'netns', 'exec', OUTSIDE.internet.ns, ...setprivArgv(account.uid, account.gid), 'nginx', '-c', INTERNET_CONF, '-e', `${INTERNET_DIR}/error.log`]);
    const url = `http://${OUTSIDE.internet.ip}:${OUTSIDE.internet.port}/`;
    await waitFor(async () => check((await run(['curl', '-s', '-m', '1', url], { allowFail: true })).exitCode === 0, 'no answer'), {
      what: 'the simulated internet host',
      timeoutMs: 10_000,
      intervalMs: 20,
    });
  } catch (e) {
    await removeProbe();
    throw e;
  }
  progress(`probe: ${NAMESPACES.join(', ')} on ${OUTSIDE.bridge}`, performance.now() - t0);
  return { added: true, release: () => removeProbe().then(() => undefined) };
}

/**
 * Remove a probe a verify added, also one left by a verify killed part way: only the probe's
 * own names are acted on, whatever the record says. True when there was one.
 */
export async function removeProbe(): Promise<boolean> {
  const record = readJson<typeof probeNames>(RECORD);
  if (!record) return false;
  const only = (names: unknown, allowed: string[]) => (Array.isArray(names) ? names.filter((n): n is string => allowed.includes(n)) : []);
  const namespaces = only(record.namespaces, probeNames.namespaces);
  const bridges = only(record.bridges, probeNames.bridges);
  const pids = await nsPids(namespaces.filter((n) => NAMESPACES.includes(n)));
  if (pids.length) await priv(['kill', '-KILL', ...pids.map(String)], { allowFail: true });
  const [ns, links] = await Promise.all([listNamespaces(), listLinks()]);
  await ipBatch([...namespaces.filter((n) => ns.includes(n)).map((n) => `netns del ${n}`), ...bridges.filter((b) => links.includes(b)).map((b) => `link del ${b}`)], { force: true });
  await waitGone(namespaces, [...bridges, ...only(record.veths, probeNames.veths)]);
  await priv(['rm', '-rf', RECORD, INTERNET_CONF, INTERNET_DIR]);
  await priv(['rmdir', PROBE_DIR], { allowFail: true });
  return true;
}
