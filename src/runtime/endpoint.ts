import dns from 'node:dns';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { OspsError } from '../errors.js';

// sockaddr_un.sun_path is 108 bytes including the terminating NUL.
export const MAX_UNIX_SOCKET_PATH = 107;

export type Endpoint = { kind: 'tcp'; host: string; port: number } | { kind: 'ipc'; path: string };

function bad(endpoint: string, why: string): OspsError {
  return new OspsError('BAD_ENDPOINT', `invalid endpoint '${endpoint}': ${why}`);
}

/**
 * Parses a client endpoint, refusing what zeromq would accept but the instance cannot keep:
 * a port out of range (zeromq wraps it), port 0 (a new random port on every failover), an
 * ipc:// without a path, or a socket path over the unix limit.
 */
export function parseEndpoint(endpoint: string): Endpoint {
  if (endpoint.startsWith('ipc://')) {
    const p = endpoint.slice('ipc://'.length);
    if (p === '' || p === '*') throw bad(endpoint, 'ipc:// needs a socket path (ipc:///run/osps/NAME.sock)');
    if (Buffer.byteLength(p) > MAX_UNIX_SOCKET_PATH) {
      throw new OspsError('PATH_TOO_LONG', `endpoint ${endpoint} is over the ${MAX_UNIX_SOCKET_PATH}-byte unix socket limit`);
    }
    return { kind: 'ipc', path: p };
  }
  // The client socket is IPv4 (zeromq's ipv6 option is off): an [IPv6] host cannot bind.
  if (/^tcp:\/\/\[/.test(endpoint)) throw bad(endpoint, 'IPv6 addresses are not supported: use an IPv4 address, a host name or an interface');
  const m = /^tcp:\/\/([^:[\]/]+):(\d+)$/.exec(endpoint);
  if (!m) throw bad(endpoint, 'expected tcp://HOST:PORT or ipc://PATH');
  const port = Number(m[2]);
  if (port === 0) {
    throw bad(endpoint, 'port 0 binds a random port, a different one after every failover: choose a fixed port (1-65535)');
  }
  if (!Number.isSafeInteger(port) || port > 65535) throw bad(endpoint, `port ${m[2]} is out of range (1-65535)`);
  return { kind: 'tcp', host: m[1]!, port };
}

function listenOnce(srv: net.Server, opts: net.ListenOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(opts, () => {
      srv.off('error', reject);
      srv.close(() => resolve());
    });
  });
}

/** Whether something accepts connections on the unix socket at `file`. */
function socketAnswers(file: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(file);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

const BIND_WHY: Record<string, string> = {
  EADDRINUSE: 'is already in use by another process',
  EACCES: 'cannot be bound: permission denied',
  EADDRNOTAVAIL: 'cannot be bound: the address is not on this host',
};

/** The IPv4 address zeromq binds for `host`: `*`, an address, an interface name, or a host name. */
async function bindAddress(endpoint: string, host: string): Promise<string> {
  if (host === '*') return '0.0.0.0';
  if (net.isIPv4(host)) return host;
  const iface = os.networkInterfaces()[host]?.find((a) => a.family === 'IPv4');
  if (iface) return iface.address;
  try {
    return (await dns.promises.lookup(host, { family: 4 })).address;
  } catch {
    throw new OspsError('BAD_ENDPOINT', `endpoint ${endpoint} cannot be bound: ${host} is not an IPv4 address, interface or known host`);
  }
}

async function trialBind(endpoint: string, opts: net.ListenOptions): Promise<void> {
  try {
    await listenOnce(net.createServer(), opts);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    throw new OspsError(code === 'EADDRINUSE' ? 'ENDPOINT_IN_USE' : 'BAD_ENDPOINT', `endpoint ${endpoint} ${BIND_WHY[code] ?? `cannot be bound: ${(err as Error).message}`}`);
  }
}

/**
 * Proves, before anything is spawned, that a primary could bind `endpoint`: a trial bind of
 * the port or socket path, released at once. Without it a bad endpoint shows only as a
 * primary that dies at bind, over and over, through every fence and respawn.
 * EADDRINUSE is reported as ENDPOINT_IN_USE, everything else as BAD_ENDPOINT.
 */
export async function checkEndpointUsable(endpoint: string): Promise<void> {
  const ep = parseEndpoint(endpoint);
  if (ep.kind === 'tcp') {
    await trialBind(endpoint, { host: await bindAddress(endpoint, ep.host), port: ep.port, exclusive: true });
    return;
  }
  // '@name' is Linux's abstract namespace: no file, no directory.
  if (ep.path.startsWith('@')) {
    await trialBind(endpoint, { path: `\0${ep.path.slice(1)}` });
    return;
  }
  const file = path.resolve(ep.path);
  const dir = path.dirname(file);
  if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
    throw bad(endpoint, `directory ${dir} does not exist`);
  }
  const st = fs.lstatSync(file, { throwIfNoEntry: false });
  if (st) {
    // zeromq unlinks whatever is at the path before it binds.
    if (!st.isSocket()) throw bad(endpoint, `${file} exists and is not a socket`);
    if (await socketAnswers(file)) {
      throw new OspsError('ENDPOINT_IN_USE', `endpoint ${endpoint} is already in use by another process`);
    }
    return;
  }
  await trialBind(endpoint, { path: file });
}
