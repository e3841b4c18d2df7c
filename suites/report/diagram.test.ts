import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { topology } from '../../src/topology/default.ts';
import { runDiagram } from '../../src/cli/diagram.ts';
import { diagramMermaid, diagramSvg } from '../../src/report/topology-diagram.ts';

const nodes = [...topology.app.nodes, ...topology.outside.nodes];
const bridges = [topology.app.bridge, topology.outside.bridge];
const forward = topology.portForwards[0]!;
const target = nodes.find((n) => n.name === forward.node)!;

describe.each([
  ['diagramSvg', diagramSvg(topology)],
  ['diagramMermaid', diagramMermaid(topology)],
])('%s', (_, text) => {
  it('shows every namespace with its address and veth pair', () => {
    for (const n of nodes) {
      expect(text).toContain(n.name);
      expect(text).toContain(n.ip);
      expect(text).toContain(n.veth);
      expect(text).toContain(`${n.veth}-br`);
    }
  });

  it('shows both bridges with their addresses and subnets', () => {
    for (const b of bridges) expect(text).toContain(`${b.name} ${b.ip}`);
    expect(text).toContain(topology.app.subnet);
    expect(text).toContain(topology.outside.subnet);
  });

  it('shows the DNAT path and the MASQUERADE egress', () => {
    expect(text).toContain(`tcp dport ${forward.hostPort} → DNAT ${target.ip}:${forward.port}`);
    expect(text).toContain(`-s ${topology.app.subnet} ! -o ${topology.app.bridge.name} → MASQUERADE`);
  });
});

describe('diagramSvg', () => {
  it('is one standalone SVG element with a node group per namespace', () => {
    const svg = diagramSvg(topology);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg.match(/class="ns"/g)).toHaveLength(nodes.length);
    expect(svg).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
  });
});

describe('diagramMermaid', () => {
  it('is a flowchart whose identifiers are valid Mermaid ids', () => {
    const m = diagramMermaid(topology);
    expect(m.startsWith('flowchart TB\n')).toBe(true);
    for (const n of nodes) expect(m).toContain(`${n.name.replace(/-/g, '_')}["${n.name}<br/>`);
  });
});

describe('runDiagram', () => {
  it('prints Mermaid with no arguments', () => {
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      expect(runDiagram([])).toBe(0);
      expect(String(write.mock.calls[0]![0])).toBe(diagramMermaid(topology));
    } finally {
      write.mockRestore();
    }
  });

  it('writes the SVG with --svg FILE and rejects anything else', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ecomnet-diagram-'));
    const file = join(dir, 'net.svg');
    const err = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      expect(runDiagram(['--svg', file])).toBe(0);
      expect(readFileSync(file, 'utf8')).toBe(`${diagramSvg(topology)}\n`);
      expect(runDiagram(['--svg'])).toBe(2);
      expect(runDiagram(['--png', file])).toBe(2);
    } finally {
      err.mockRestore();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
