import { createServer } from 'node:http';

/**
 * The simulated internet: answers every request with the source address it saw, like a
 * "what is my IP" service, so egress tests can prove the host masqueraded the namespace.
 * Usage: node internet-host.ts <ip> <port>
 */
const [ip, port] = process.argv.slice(2);
const server = createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end(`${req.socket.remoteAddress}\n`);
});
server.listen(Number(port), ip, () => process.stdout.write(`internet host listening on ${ip}:${port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
