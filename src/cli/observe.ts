/** `ecomnet observe`: the live page (default), or the same tables in the terminal (`--once`, `--watch`, `--json`). */
import { startObserver } from '../observe/observer.ts';
import { stopRequest } from './stop-request.ts';
import { snapshotText } from '../observe/text.ts';
import type { Snapshot } from '../observe/types.ts';

export interface ObserveCli {
  once: boolean;
  watch: boolean;
  json: boolean;
  port?: number;
}

export async function observe(o: ObserveCli): Promise<number> {
  // Before the observer changes anything: no signal may end this process before it has undone it.
  const stop = stopRequest((l) => console.error(l));
  const stopped = stop.requested.then(() => {});
  const observer = await startObserver();
  try {
    if (stop.signal.aborted) return 0;
    if (o.once) {
      // Rates need two samples: the first is the baseline.
      const s = await Promise.race([
        new Promise<Snapshot>((r) => {
          const off = observer.subscribe((x) => {
            off();
            r(x);
          });
        }),
        stopped,
      ]);
      if (s) console.log(o.json ? JSON.stringify(s, null, 2) : snapshotText(s));
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
