/** `ecomnet observe`: the live page (default), or the same tables in the terminal (`--once`, `--watch`, `--json`). */
import { startObserver } from '../observe/observer.ts';
import { snapshotText } from '../observe/text.ts';
import type { Snapshot } from '../observe/types.ts';

export interface ObserveCli {
  once: boolean;
  watch: boolean;
  json: boolean;
  port?: number;
}

/** Until Ctrl-C or SIGTERM. */
const interrupted = (): Promise<void> =>
  new Promise((r) => {
    process.once('SIGINT', () => r());
    process.once('SIGTERM', () => r());
  });

export async function observe(o: ObserveCli): Promise<number> {
  const observer = await startObserver();
  const stopped = interrupted();
  try {
    if (o.once) {
      // Rates need two samples: the first is the baseline.
      const s = await new Promise<Snapshot>((r) => {
        const off = observer.subscribe((x) => {
          off();
          r(x);
        });
      });
      console.log(o.json ? JSON.stringify(s, null, 2) : snapshotText(s));
      return 0;
    }
    if (o.watch) {
      observer.subscribe((s) => {
        if (o.json) console.log(JSON.stringify(s));
        else process.stdout.write(`\x1b[2J\x1b[H${snapshotText(s, Math.max((process.stdout.rows ?? 40) - 40, 10))}\n`);
      });
      await stopped;
      return 0;
    }
    const { serveObserver } = await import('../observe/server.ts');
    const server = await serveObserver(observer, o.port === undefined ? {} : { port: o.port });
    console.log(`ecomnet observe: ${server.url}  (this host only, and only with this token; Ctrl-C stops observing and restores conntrack accounting)`);
    await stopped;
    await server.close();
    return 0;
  } finally {
    await observer.stop();
  }
}
