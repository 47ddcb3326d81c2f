// The endpoint's HTTP server: three GET routes, bounded in connections, time and size,
// and answering only to the names it was bound under (a page elsewhere cannot rebind a
// domain to 127.0.0.1 and read the status).
import fs from 'node:fs';
import http from 'node:http';
import { fileURLToPath } from 'node:url';

export const MAX_CONNECTIONS = 32;
const REQUEST_TIMEOUT_MS = 5_000;
const HEADERS_TIMEOUT_MS = 3_000;
const KEEP_ALIVE_TIMEOUT_MS = 5_000;
const IDLE_SOCKET_MS = 10_000;
// How often Node enforces the two timeouts above (its default, 30 s, would let them slip).
const TIMEOUT_CHECK_MS = 1_000;

export type Route = () => Promise<{ type: string; body: string }> | { type: string; body: string };

// Same relative place from src/observe/ (tests) and dist/observe/ (built): the page ships as written.
const PAGE_FILE = fileURLToPath(new URL('../../src/observe/dashboard.html', import.meta.url));

export function dashboardPage(): string {
  try {
    return fs.readFileSync(PAGE_FILE, 'utf8');
  } catch {
    return '<!doctype html><title>osps</title><p>dashboard page missing; /metrics and /api/status still work</p>';
  }
}

const PAGE_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:",
  'x-frame-options': 'DENY',
};

export function createServer(routes: Record<string, Route>, allowedHost: (h: string) => boolean): http.Server {
  const server = http.createServer(
    { requestTimeout: REQUEST_TIMEOUT_MS, headersTimeout: HEADERS_TIMEOUT_MS, keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS, connectionsCheckingInterval: TIMEOUT_CHECK_MS, maxHeaderSize: 8192 },
    (req, res) => void handle(routes, allowedHost, req, res),
  );
  server.maxConnections = MAX_CONNECTIONS;
  server.setTimeout(IDLE_SOCKET_MS, (socket) => socket.destroy());
  return server;
}

async function handle(routes: Record<string, Route>, allowedHost: (h: string) => boolean, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const send = (code: number, type: string, body: string, extra: Record<string, string> = {}): void => {
    res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', ...extra });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  if (!allowedHost(req.headers.host ?? '')) return send(421, 'text/plain', 'unknown host\n');
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'text/plain', 'GET only\n', { allow: 'GET, HEAD' });
  const path = (req.url ?? '/').split('?')[0] as string;
  const route = routes[path];
  if (!route) return send(404, 'text/plain', 'not found\n');
  try {
    const { type, body } = await route();
    send(200, type, body, path === '/' ? PAGE_HEADERS : {});
  } catch (err) {
    send(500, 'text/plain', `${(err as Error).message}\n`);
  }
}
