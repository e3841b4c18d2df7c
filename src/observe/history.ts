/**
 * The samples an observer keeps for its page's charts (the last five minutes at 1 Hz). The newest
 * is kept whole; each older one only with what was active in its own interval (the pairs and
 * interfaces that carried something) and without what the topology declares, which is all a chart
 * of rates draws: the history holds no copy of every pair each second.
 */
import type { InterfaceCounters, Pair, Snapshot } from './types.ts';

const active = (p: Pair): boolean => p.rate.bytes > 0 || p.rate.packets > 0 || p.rate.opened > 0;
const busy = (i: InterfaceCounters): boolean => i.rate.rxBytes > 0 || i.rate.txBytes > 0;

export class History {
  readonly #kept: Snapshot[] = [];
  readonly #size: number;

  constructor(size: number) {
    this.#size = size;
  }

  /** Keep `s` as the newest; the one it follows is thinned (a copy: a caller may still hold it whole). */
  push(s: Snapshot): void {
    const last = this.#kept.length - 1;
    if (last >= 0) {
      const was = this.#kept[last]!;
      this.#kept[last] = { ...was, pairs: was.pairs.filter(active), interfaces: was.interfaces.filter(busy), declared: undefined };
    }
    this.#kept.push(s);
    if (this.#kept.length > this.#size) this.#kept.splice(0, this.#kept.length - this.#size);
  }

  latest(): Snapshot | undefined {
    return this.#kept.at(-1);
  }

  /** Oldest first. */
  all(): Snapshot[] {
    return [...this.#kept];
  }
}
