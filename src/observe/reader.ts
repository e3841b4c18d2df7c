/**
 * The one privileged process an observer needs: a shell that holds each namespace open with a
 * sleeping `tail` (so /proc/PID/net is that namespace's view, read without entering it), turns
 * conntrack accounting on there and adds a chain of ours whose one conntrack rule makes the
 * kernel track connections in a namespace that had no rule needing it. Each sample is then a
 * single `grep` over /proc, whatever the number of namespaces. On its end (our stdin closed,
 * whatever killed us, or a signal) it restores every namespace's accounting, removes the chain
 * and its holders; each holder also dies on its own once the shell is gone (`tail --pid`).
 *
 * A holder dies with its namespace's processes (the supervisor, a fault, a cleanup kill them all)
 * and its pid may then be another's. So a holder is known by its pid, its start time and its
 * parent (this shell), checked with builtins alone before each signal and around each read: a
 * child is reaped only while the shell waits for one, so while no command runs between the check
 * and the act, the pid still names the holder checked (alive, or dead and not yet reaped). A
 * holder found gone is said (`lost NS`) and the observer adds it again; its data is not used.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { privPrefix } from '../host/exec.ts';
import { grepByFile } from './conntrack.ts';

const END = '--end--';

const SCRIPT = `
chain=$1 ipt=$2
added=''   # ns=old=inode: what to restore at the end, per instance of a namespace
holders='' # ns=pid=starttime
restore() { # ns old
  [ -e "/run/netns/$1" ] || return 0
  [ "$2" != - ] && ip netns exec "$1" sysctl -qw "net.netfilter.nf_conntrack_acct=$2"
  ip netns exec "$1" $ipt -w -F "$chain" 2>/dev/null && ip netns exec "$1" $ipt -w -X "$chain" 2>/dev/null
  return 0
}
started() { # pid: st, its start time, if it is a live child of ours (builtins only)
  st=''
  line=''
  { read -r line <"/proc/$1/stat"; } 2>/dev/null || return 1
  set -f
  set -- \${line##*) }
  set +f
  [ "$1" != Z ] && [ "$1" != X ] && [ "$2" = $$ ] || return 1
  shift 19
  st=$1
}
ours() { started "$1" && [ "$st" = "$2" ]; } # pid starttime
unchange() { # ns=old=inode: restore it if that namespace is still the one changed (one made anew since is not ours)
  [ "$(stat -L -c %i "/run/netns/\${1%%=*}" 2>/dev/null)" = "\${1##*=}" ] || return 0
  e=\${1%=*}
  restore "\${e%%=*}" "\${e#*=}"
}
holder() { # ns: h, s (its entry's pid and start time), if held
  h='' s=''
  for e in $holders; do [ "\${e%%=*}" = "$1" ] && { e=\${e#*=}; h=\${e%%=*}; s=\${e#*=}; }; done
  [ -n "$h" ]
}
unhold() { # ns
  kept=''
  for e in $holders; do [ "\${e%%=*}" = "$1" ] || kept="$kept $e"; done
  holders=$kept
}
instance() { # ns: a, its entry in added for the namespace there now
  ino=$(stat -L -c %i "/run/netns/$1" 2>/dev/null)
  a=''
  for e in $added; do [ "\${e%%=*}" = "$1" ] && [ "\${e##*=}" = "$ino" ] && a=$e; done
  [ -n "$a" ]
}
undo() {
  for a in $added; do unchange "$a"; done
  added=''
  for e in $holders; do e=\${e#*=}; ours "\${e%%=*}" "\${e#*=}" && kill "\${e%%=*}" 2>/dev/null; done
  holders=''
}
trap 'undo; exit 0' TERM INT HUP
echo "pid $$"
echo ${END}
while read -r cmd ns arg; do
  case $cmd in
  probe) # what accounting was before us: as we found it if we changed it, else as it is
    if instance "$ns"; then a=\${a#*=}; echo "old \${a%=*}"; else echo "old $(ip netns exec "$ns" sysctl -n net.netfilter.nf_conntrack_acct 2>/dev/null)"; fi ;;
  add) # hold it (again, after a kill); accounting on and our chain in, once per instance of it
    if ! instance "$ns"; then
      kept=''
      for e in $added; do [ "\${e%%=*}" = "$ns" ] || kept="$kept $e"; done
      added="$kept $ns=$arg=$ino"
    fi
    ip netns exec "$ns" sysctl -qw net.netfilter.nf_conntrack_acct=1
    ip netns exec "$ns" $ipt -w -N "$chain" 2>/dev/null
    rule="-m conntrack --ctstate NEW -m comment --comment ecomnet-observe:conntrack-on-while-observing -j RETURN"
    ip netns exec "$ns" $ipt -w -C "$chain" $rule 2>/dev/null || ip netns exec "$ns" $ipt -w -A "$chain" $rule
    if holder "$ns" && ours "$h" "$s"; then kill "$h" 2>/dev/null; fi
    unhold "$ns"
    ip netns exec "$ns" tail --pid=$$ -f /dev/null </dev/null >/dev/null 2>&1 &
    h=$!
    started "$h" && holders="$holders $ns=$h=$st" && echo "holder $h" ;;
  drop)
    if holder "$ns" && ours "$h" "$s"; then kill "$h" 2>/dev/null; fi
    unhold "$ns"
    kept=''
    for a in $added; do
      if [ "\${a%%=*}" = "$ns" ]; then unchange "$a"; else kept="$kept $a"; fi
    done
    added=$kept ;;
  restore) restore "$ns" "$arg" ;;
  sample) # a holder's files are read if it is ours before and after the read, else it is lost
    files='/proc/net/nf_conntrack /proc/net/dev'
    for e in $holders; do
      e=\${e#*=}
      ours "\${e%%=*}" "\${e#*=}" && files="$files /proc/\${e%%=*}/net/nf_conntrack /proc/\${e%%=*}/net/dev /proc/\${e%%=*}/root/sys/class/net/*/operstate"
    done
    grep -H '' $files 2>/dev/null
    kept=''
    for e in $holders; do
      n=\${e%%=*} p=\${e#*=}
      if ours "\${p%%=*}" "\${p#*=}"; then kept="$kept $e"; echo "held $n \${p%%=*}"; else echo "lost $n"; fi
    done
    holders=$kept ;;
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
    // Its own process group: a Ctrl-C to the observer's must not start a second undoing beside the observer's own.
    this.#child = spawn(file!, args, { stdio: 'pipe', detached: true });
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

  /** Whole lines split once per chunk: a sample's answer is thousands of lines. */
  #take(data: string): void {
    const nl = data.lastIndexOf('\n');
    if (nl < 0) {
      this.#buffer += data;
      return;
    }
    const complete = this.#buffer + data.slice(0, nl);
    this.#buffer = data.slice(nl + 1);
    for (const line of complete.split('\n')) {
      if (line === END) this.#waiting.shift()?.resolve(this.#lines.splice(0));
      else this.#lines.push(line);
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

  /** Conntrack accounting in `ns` before us: as we found it if we changed it, else as it is now ('' when the kernel has none there). */
  async accountingOf(ns: string): Promise<string> {
    const old =
      (await this.#ask('probe', ns))
        .find((l) => l.startsWith('old '))
        ?.slice(4)
        .trim() ?? '';
    return old === '-' ? '' : old;
  }

  /**
   * Observe `ns`: hold it, accounting on, our chain in (once for each instance of the namespace:
   * `old` is restored at the end). Again after its holder was lost: a new holder, the rest kept.
   * Returns the holder's pid, undefined when it died at once.
   */
  async add(ns: string, old: string): Promise<number | undefined> {
    const pid = Number((await this.#ask('add', ns, old || '-')).find((l) => l.startsWith('holder '))?.slice(7));
    return pid > 0 ? pid : undefined;
  }

  /** Stop observing a namespace (gone, or going): let its holder go and restore what `add` changed, if it is still there. */
  async drop(ns: string): Promise<void> {
    await this.#ask('drop', ns);
  }

  /** Undo what a crashed observer left in `ns`. */
  async restore(ns: string, old: string): Promise<void> {
    await this.#ask('restore', ns, old || '-');
  }

  /**
   * Every held namespace's conntrack table, interface counters and link states, plus the host's,
   * by file (`/proc/PID/...` for a namespace's); which holder read each namespace, and the
   * namespaces whose holder was lost (killed: nothing of it is in `files`' use, add it again).
   */
  async sample(): Promise<{ files: Map<string, string>; held: Map<string, number>; lost: string[] }> {
    const lines = await this.#ask('sample');
    const held = new Map<string, number>();
    const lost: string[] = [];
    const fileLines: string[] = [];
    for (const l of lines) {
      if (l.startsWith('/proc/')) fileLines.push(l);
      else if (l.startsWith('held ') || l.startsWith('lost ')) {
        const [word, ns, pid] = l.split(' ');
        if (word === 'held' && ns) held.set(ns, Number(pid));
        else if (ns) lost.push(ns);
      }
    }
    return { files: grepByFile(fileLines), held, lost };
  }

  /** Close its input: it restores everything and exits. */
  async stop(): Promise<void> {
    if (this.#closed) return;
    const closed = new Promise<void>((r) => this.#child.once('close', () => r()));
    this.#child.stdin.end();
    await Promise.race([closed, new Promise((r) => setTimeout(r, 15_000).unref())]);
  }
}
