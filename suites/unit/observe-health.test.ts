import { describe, expect, it } from 'vitest';
import { HealthBook } from '../../src/observe/health.ts';

describe('health records', () => {
  it('keep the time of the last change across samples', () => {
    const book = new HealthBook();
    expect(book.record('api-gateway', 'http', 'a', { healthy: true, latencyMs: 1.23, detail: '200' }, 't1')).toMatchObject({ healthy: true, since: 't1', latencyMs: 1.2 });
    expect(book.record('api-gateway', 'http', 'a', { healthy: true, detail: '200' }, 't2').since).toBe('t1');
    expect(book.record('api-gateway', 'http', 'a', { healthy: false, detail: 'ECONNREFUSED' }, 't3')).toMatchObject({ healthy: false, since: 't3', detail: 'ECONNREFUSED' });
  });
});
