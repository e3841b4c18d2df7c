/**
 * Each service asked the way its clients ask it, by its readiness value (src/net/readiness.ts,
 * the same question start and `status` ask): nginx and the three Node services by HTTP GET
 * /health, Redis by its own protocol (AUTH, PING), PostgreSQL by a `SELECT 1`; each on a
 * connection kept between samples (a login a second would cost the server a process each time,
 * a socket a second would fill conntrack with TIME_WAITs), with the run's credentials where the
 * platform is ecomnet's and the seed's otherwise (src/grader/logins.ts).
 */
import type { KeptProbe, Probed, Readiness } from '../net/readiness.ts';
import type { Health } from './types.ts';

/** The services' kept probes, by name: one is replaced only when its question changes (another address or login). */
export class KeptProbes {
  readonly #kept = new Map<string, { key: string; probe: KeptProbe }>();

  probe(name: string, r: Readiness): Promise<Probed> {
    let k = this.#kept.get(name);
    if (k?.key !== r.key) {
      k?.probe.close();
      k = { key: r.key, probe: r.kept() };
      this.#kept.set(name, k);
    }
    return k.probe.probe();
  }

  close(): void {
    for (const k of this.#kept.values()) k.probe.close();
    this.#kept.clear();
  }
}

/** Health records with the time of each one's last change kept from one sample to the next. */
export class HealthBook {
  readonly #since = new Map<string, { healthy: boolean; at: string }>();

  record(name: string, protocol: Health['protocol'], address: string, p: Probed, at: string): Health {
    const was = this.#since.get(name);
    const since = was && was.healthy === p.healthy ? was.at : at;
    this.#since.set(name, { healthy: p.healthy, at: since });
    return { name, protocol, address, healthy: p.healthy, ...(p.latencyMs === undefined ? {} : { latencyMs: Math.round(p.latencyMs * 10) / 10 }), detail: p.detail, since };
  }
}
