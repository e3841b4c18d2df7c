/**
 * The one privileged process an observer needs: a shell that holds each namespace open with a
 * sleeping `tail` (so /proc/PID/net is that namespace's view, read without entering it), turns
 * conntrack accounting on there and adds a chain of ours whose one conntrack rule makes the
 * kernel track connections in a namespace that had no rule needing it. Each sample is then a
 * single `grep` over /proc, whatever the number of namespaces. On its end (our stdin closed,
 * whatever killed us, or a signal) it restores every namespace's accounting, removes the chain
 * and its holders; each holder also dies on its own once the shell is gone (`tail --pid`).
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { privPrefix } from '../host/exec.ts';

const END = '--end--';

const SCRIPT = `
chain=$1 ipt=$2
added=''
holders=''
restore() { # ns old
  [ -e "/run/netns/$1" ] || return 0
  [ "$2" != - ] && ip netns exec "$1" sysctl -qw "net.netfilter.nf_conntrack_acct=$2"
  ip netns exec "$1" $ipt -w -F "$chain" 2>/dev/null && ip netns exec "$1" $ipt -w -X "$chain" 2>/dev/null
  return 0
}
undo() {
  for a in $added; do restore "\${a%%=*}" "\${a#*=}"; done
  added=''
  [ -z "$holders" ] || kill $holders 2>/dev/null
  holders=''
}
trap 'undo; exit 0' TERM INT HUP
echo "pid $$"
echo ${END}
while read -r cmd ns arg; do
  case $cmd in
  probe) echo "old $(ip netns exec "$ns" sysctl -n net.netfilter.nf_conntrack_acct 2>/dev/null)" ;;
  add)
    ip netns exec "$ns" tail --pid=$$ -f /dev/null </dev/null >/dev/null 2>&1 &
    h=$!
    holders="$holders $h"
    added="$added $ns=$arg"
    ip netns exec "$ns" sysctl -qw net.netfilter.nf_conntrack_acct=1
    ip netns exec "$ns" $ipt -w -N "$chain" 2>/dev/null
    ip netns exec "$ns" $ipt -w -A "$chain" -m conntrack --ctstate NEW -m comment --comment "ecomnet observe: conntrack on while observing" -j RETURN
    echo "holder $h" ;;
  drop)
    kill "$arg" 2>/dev/null
    kept=''
    for a in $added; do [ "\${a%%=*}" = "$ns" ] && restore "$ns" "\${a#*=}" || kept="$kept $a"; done
    added=$kept
    kept=''
    for h in $holders; do [ "$h" = "$arg" ] || kept="$kept $h"; done
    holders=$kept ;;
  restore) restore "$ns" "$arg" ;;
  sample)
    files='/proc/net/nf_conntrack /proc/net/dev'
    for h in $holders; do [ -d "/proc/$h" ] && files="$files /proc/$h/net/nf_conntrack /proc/$h/net/dev /proc/$h/root/sys/class/net/*/operstate"; done
    grep -H '' $files 2>/dev/null ;;
  esac
  echo ${END}
done
undo
`;

/** Names go into a shell line: only what `ip netns add` would take and a lab would use. */
const SAFE = /^[A-Za-z0-9_.-]{1,64}$/;

export class Reader {
  readonly #child: ChildProcessWithoutNullStreams;
  #buffer = '';
  readonly #waiting: { resolve: (lines: string[]) => void; reject: (e: Error) => void }[] = [];
  #lines: string[] = [];
  #closed: Error | undefined;
  /** The shell's pid (it runs as root; its CPU, children included, is the observer's too). */
  pid = 0;

  private constructor(chain: string, iptables: string) {
    const [file, ...args] = [...privPrefix, 'sh', '-c', SCRIPT, 'ecomnet-observe', chain, iptables];
    this.#child = spawn(file!, args, { stdio: 'pipe' });
    this.#child.stdout.setEncoding('utf8').on('data', (d: string) => this.#take(d));
    this.#child.stdin.on('error', () => {});
    let stderr = '';
    this.#child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-2000)));
    this.#child.once('close', (code) => this.#fail(new Error(`the observer's privileged reader exited (${code})${stderr ? `: ${stderr.trim()}` : ''}`)));
    this.#child.once('error', (e) => this.#fail(e));
  }

  static async start(chain: string, iptables: string): Promise<Reader> {
    const r = new Reader(chain, iptables);
    const hello = await r.#next();
    r.pid = Number(hello.find((l) => l.startsWith('pid '))?.slice(4));
    return r;
  }

  #take(data: string): void {
    this.#buffer += data;
    let nl = this.#buffer.indexOf('\n');
    while (nl >= 0) {
      const line = this.#buffer.slice(0, nl);
      this.#buffer = this.#buffer.slice(nl + 1);
      if (line === END) this.#waiting.shift()?.resolve(this.#lines.splice(0));
      else this.#lines.push(line);
      nl = this.#buffer.indexOf('\n');
    }
  }

  #fail(e: Error): void {
    this.#closed ??= e;
    for (const w of this.#waiting.splice(0)) w.reject(e);
  }

  #next(): Promise<string[]> {
    if (this.#closed) return Promise.reject(this.#closed);
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  /** One command, answered in order: the shell reads its input line by line. */
  #ask(...words: string[]): Promise<string[]> {
    for (const w of words) if (!SAFE.test(w)) throw new Error(`not a name the observer passes to a shell: ${JSON.stringify(w)}`);
    const answer = this.#next();
    this.#child.stdin.write(`${words.join(' ')}\n`);
    return answer;
  }

  /** Conntrack accounting in `ns` now ('' when the kernel has none there). */
  async accountingOf(ns: string): Promise<string> {
    return (
      (await this.#ask('probe', ns))
        .find((l) => l.startsWith('old '))
        ?.slice(4)
        .trim() ?? ''
    );
  }

  /** Start observing `ns`: hold it, accounting on, our chain in. `old` is restored at the end. Returns the holder's pid. */
  async add(ns: string, old: string): Promise<number> {
    const lines = await this.#ask('add', ns, old || '-');
    return Number(lines.find((l) => l.startsWith('holder '))?.slice(7));
  }

  /** Stop observing a namespace (gone, or going): let it go and restore what `add` changed, if it is still there. */
  async drop(ns: string, holder: number): Promise<void> {
    await this.#ask('drop', ns, String(holder));
  }

  /** Undo what a crashed observer left in `ns`. */
  async restore(ns: string, old: string): Promise<void> {
    await this.#ask('restore', ns, old || '-');
  }

  /** Every observed namespace's conntrack table, interface counters and link states, plus the host's: `grep -H` output. */
  sample(): Promise<string> {
    return this.#ask('sample').then((l) => l.join('\n'));
  }

  /** Close its input: it restores everything and exits. */
  async stop(): Promise<void> {
    if (this.#closed) return;
    const closed = new Promise<void>((r) => this.#child.once('close', () => r()));
    this.#child.stdin.end();
    await Promise.race([closed, new Promise((r) => setTimeout(r, 15_000).unref())]);
  }
}
