/**
 * The outside segment on documentation addresses (RFC 5737): the grader's vantage (an external
 * client, an internet host), verify's probe, a virtual host's world and ecomnet's own outside
 * all stand on it, so it is here, where each of them may import it.
 */
/** The outside segment: the upper half of 203.0.113.0/24 (a host may reach real services in the lower half). */
export const OUTSIDE = {
  subnet: '203.0.113.128/25',
  /** The host's own address there: where the external client finds port 8080. */
  host: { ip: '203.0.113.129', prefix: 25 },
  client: { ip: '203.0.113.130', ns: 'ext-client', veth: 'veth-ext' },
  internet: { ip: '203.0.113.200', port: 80, ns: 'internet-host', veth: 'veth-inet' },
  /** On a real host: the bridge verify's probe hangs its two namespaces on. */
  bridge: 'br-uplink',
} as const;
