import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { HostModel } from '../../src/grader/model.ts';
import { HealthBook } from '../../src/observe/health.ts';
import { onThisHost } from '../../src/observe/observer.ts';

const fixture = JSON.parse(readFileSync(new URL('../fixtures/host-model.json', import.meta.url), 'utf8')) as HostModel;

describe('where the observer may send a health probe', () => {
  it("to a namespace's address behind a bridge route of the host, and to the host's own addresses", () => {
    expect(onThisHost(fixture, '10.0.0.20')).toBe(true);
    expect(onThisHost(fixture, '10.0.0.1')).toBe(true);
    expect(onThisHost(fixture, '127.0.0.1')).toBe(true);
  });

  it('never to an address no namespace has (it would leave by the default route), nor past a host without the route to it', () => {
    expect(onThisHost(fixture, '10.0.0.99')).toBe(false);
    expect(onThisHost({ ...fixture, namespaces: [] }, '10.0.0.20')).toBe(false);
    expect(onThisHost({ ...fixture, host: { ...fixture.host, routes: fixture.host.routes.filter((r) => r.dst !== '10.0.0.0/16') } }, '10.0.0.20')).toBe(false);
    const viaGateway = { ...fixture, host: { ...fixture.host, routes: [{ dst: '10.0.0.0/16', via: '192.0.2.1', dev: 'eth0' }] } };
    expect(onThisHost(viaGateway, '10.0.0.20')).toBe(false);
  });
});

describe('health records', () => {
  it('keep the time of the last change across samples', () => {
    const book = new HealthBook();
    expect(book.record('api-gateway', 'http', 'a', { healthy: true, latencyMs: 1.23, detail: '200' }, 't1')).toMatchObject({ healthy: true, since: 't1', latencyMs: 1.2 });
    expect(book.record('api-gateway', 'http', 'a', { healthy: true, detail: '200' }, 't2').since).toBe('t1');
    expect(book.record('api-gateway', 'http', 'a', { healthy: false, detail: 'ECONNREFUSED' }, 't3')).toMatchObject({ healthy: false, since: 't3', detail: 'ECONNREFUSED' });
  });
});
