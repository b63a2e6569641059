// The fixture upstream (test/fixtures/tools.mjs) served over Streamable HTTP in its own process,
// for the bench's HTTP rows (the upstream's CPU stays out of the bench process, as the stdio
// child's does). Prints its URL on stdout once listening; ends with its stdin.
import { createServer } from 'node:http';
import { nodeListener } from '@helm/mcp-gateway';
import { createMcpHandler } from '@modelcontextprotocol/server';
import { create } from '../test/fixtures/tools.mjs';

const mcp = createMcpHandler(() => create('.'));
const server = createServer(nodeListener((request) => mcp.fetch(request)));
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`http://127.0.0.1:${server.address().port}/mcp\n`);
});
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
