import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { buildText } from '../../src/grader/build-text.ts';
import { startLine } from '../../src/grader/service-facts.ts';

describe("a build script's text, with the files it sources beside it", () => {
  it('follows `. "$(dirname "$0")/lib/..."`, so a start line kept there is found', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'build-text-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    mkdirSync(join(dir, 'lib'));
    writeFileSync(join(dir, 'build.sh'), 'DIR=/run/lab\n. "$(dirname "$0")/lib/services.sh"\nstart_order\n');
    writeFileSync(join(dir, 'lib', 'services.sh'), 'start_order() {\n  ip netns exec order-service python3 "$DIR/order.py" >"$DIR/order.log" 2>&1 &\n}\n');
    const text = await buildText(join(dir, 'build.sh'));
    expect(startLine(text!, 'order-service')).toBe('ip netns exec order-service python3 "/run/lab/order.py" >"/run/lab/order.log" 2>&1 &');
    expect(await buildText(join(dir, 'missing.sh'))).toBeUndefined();
  });
});
