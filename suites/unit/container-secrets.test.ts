import { describe, expect, it } from 'vitest';
import { generatePassword } from '../../src/data/password.ts';
import { containerSpec } from '../../src/runtime/containers.ts';
import { POSTGRES_PASSWORD_FILE, REDIS_CONF_FILE } from '../../src/runtime/entrypoint.ts';

const password = generatePassword();

describe.each(['postgres', 'redis'] as const)('the %s container as the engine is told it (docker inspect)', (component) => {
  const spec = containerSpec({ component, tag: 'ecomnet', password });

  it('holds the password in no environment variable, command, entrypoint or healthcheck', () => {
    const shown = JSON.stringify({ env: spec.env, cmd: spec.command, entrypoint: spec.entrypoint, healthcheck: spec.healthcheck, labels: spec.labels, image: spec.image, name: spec.name });
    expect(shown).not.toContain(password);
  });

  it('gets it in exactly one file, readable by its owner only', () => {
    const holding = spec.files.filter((f) => f.content.includes(password));
    expect(holding.map((f) => [f.target, f.mode.toString(8)])).toEqual([[component === 'postgres' ? POSTGRES_PASSWORD_FILE : REDIS_CONF_FILE, '600']]);
  });

  it('waits for readiness without logging in', () => {
    if (component === 'postgres') expect(spec.healthcheck?.slice(0, 2)).toEqual(['CMD', 'pg_isready']);
    else expect(spec.readyLog).toBeTruthy();
  });
});
