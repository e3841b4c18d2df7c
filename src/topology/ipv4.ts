/** Just enough IPv4 arithmetic for validation: no dependency, no surprises. */

export function parseIp(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    n = n * 256 + Number(p);
  }
  return n;
}

export interface Cidr {
  base: number;
  prefix: number;
}

export function parseCidr(cidr: string): Cidr | undefined {
  const [ip, len] = cidr.split('/');
  const base = parseIp(ip ?? '');
  const prefix = len === undefined ? 32 : Number(len);
  if (base === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) return undefined;
  return { base: base - (base % 2 ** (32 - prefix)), prefix };
}

export function contains(net: Cidr, ip: number): boolean {
  const size = 2 ** (32 - net.prefix);
  return ip >= net.base && ip < net.base + size;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return contains(a, b.base) || contains(b, a.base);
}

export function prefixOf(cidr: string): number {
  return parseCidr(cidr)?.prefix ?? 32;
}

export function formatIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/** Does `spec` (a CIDR, a bare address, or a dotted mask as old iptables and hand-written rules print it) hold `addr`; false when either is not IPv4. */
export function cidrHas(spec: string, addr: string): boolean {
  const [base, mask] = spec.split('/');
  const prefix = mask?.includes('.') ? [...(parseIp(mask) ?? 0).toString(2)].filter((b) => b === '1').length : (mask ?? 32);
  const net = parseCidr(`${base}/${prefix}`);
  const n = parseIp(addr);
  return !!net && n !== undefined && contains(net, n);
}
