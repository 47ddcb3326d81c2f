// The client endpoint is checked before anything is spawned: its form, and a trial bind.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkEndpointUsable, parseEndpoint } from '../../dist/runtime/endpoint.js';
import { freePort } from '../../dist/net/free-port.js';

let tmp: string;
const servers: net.Server[] = [];
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'osps-ep-'));
});
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
  fs.rmSync(tmp, { recursive: true, force: true });
});

function listen(opts: net.ListenOptions): Promise<net.Server> {
  const s = net.createServer((c) => c.destroy());
  servers.push(s);
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.listen(opts, () => resolve(s));
  });
}

describe('parseEndpoint', () => {
  it('accepts tcp host:port (names, IPv4, *) and ipc paths', () => {
    expect(parseEndpoint('tcp://127.0.0.1:7400')).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 7400 });
    expect(parseEndpoint('tcp://localhost:1')).toEqual({ kind: 'tcp', host: 'localhost', port: 1 });
    expect(parseEndpoint('tcp://lo:65535')).toEqual({ kind: 'tcp', host: 'lo', port: 65535 });
    expect(parseEndpoint('tcp://*:7400')).toEqual({ kind: 'tcp', host: '*', port: 7400 });
    expect(parseEndpoint('ipc:///run/x.sock')).toEqual({ kind: 'ipc', path: '/run/x.sock' });
  });

  it('refuses a port out of range (zeromq would bind another one) and says the range', () => {
    expect(() => parseEndpoint('tcp://127.0.0.1:99999')).toThrow("invalid endpoint 'tcp://127.0.0.1:99999': port 99999 is out of range (1-65535)");
    expect(() => parseEndpoint('tcp://127.0.0.1:65536')).toThrow(/out of range/);
    expect(() => parseEndpoint('tcp://127.0.0.1:123456789012345678901')).toThrow(/out of range/);
  });

  it('refuses port 0, saying why: the port must survive failovers', () => {
    expect(() => parseEndpoint('tcp://127.0.0.1:0')).toThrow(/port 0 binds a random port, a different one after every failover/);
    expect(() => parseEndpoint('tcp://127.0.0.1:00')).toThrow(/port 0/);
  });

  it('refuses ipc:// without a path, an over-long path, and malformed endpoints', () => {
    expect(() => parseEndpoint('ipc://')).toThrow(/ipc:\/\/ needs a socket path/);
    expect(() => parseEndpoint('ipc://*')).toThrow(/needs a socket path/);
    expect(() => parseEndpoint(`ipc:///${'d'.repeat(120)}`)).toThrow(/unix socket limit/);
    expect(() => parseEndpoint('tcp://[::1]:7400')).toThrow(/IPv6 addresses are not supported/);
    for (const bad of ['http://x', 'tcp://127.0.0.1', 'tcp://:7400', 'tcp://127.0.0.1:-1', 'tcp://127.0.0.1:7400/x', 'tcp://::1:7400']) {
      expect(() => parseEndpoint(bad), bad).toThrow(/invalid endpoint/);
    }
  });
});

describe('checkEndpointUsable', () => {
  it('passes a free port and leaves it free', async () => {
    const port = await freePort();
    await checkEndpointUsable(`tcp://127.0.0.1:${port}`);
    await listen({ host: '127.0.0.1', port });
  });

  it('refuses a port in use, in one line', async () => {
    const s = await listen({ host: '127.0.0.1', port: 0 });
    const port = (s.address() as net.AddressInfo).port;
    const err = await checkEndpointUsable(`tcp://127.0.0.1:${port}`).catch((e: Error & { code?: string }) => e);
    expect(err).toMatchObject({ code: 'ENDPOINT_IN_USE', message: `endpoint tcp://127.0.0.1:${port} is already in use by another process` });
  });

  it('refuses a host that is not on this machine, and one that does not resolve', async () => {
    await expect(checkEndpointUsable('tcp://192.0.2.1:7400')).rejects.toThrow(/not on this host/);
    await expect(checkEndpointUsable('tcp://no-such-host.invalid:7400')).rejects.toThrow(/is not an IPv4 address, interface or known host/);
  });

  it('binds names as zeromq does (IPv4): localhost, an interface, *', async () => {
    const s = await listen({ host: '127.0.0.1', port: 0 });
    const port = (s.address() as net.AddressInfo).port;
    for (const host of ['localhost', 'lo', '*']) {
      await expect(checkEndpointUsable(`tcp://${host}:${port}`), host).rejects.toMatchObject({ code: 'ENDPOINT_IN_USE' });
    }
  });

  it('passes an ipc path in an existing dir and leaves no file behind', async () => {
    const sock = path.join(tmp, 'c.sock');
    await checkEndpointUsable(`ipc://${sock}`);
    expect(fs.existsSync(sock)).toBe(false);
  });

  it('refuses an ipc path in a missing dir, and one that is not a socket (zeromq would unlink it)', async () => {
    await expect(checkEndpointUsable(`ipc://${tmp}/none/c.sock`)).rejects.toThrow(/directory .*none does not exist/);
    const file = path.join(tmp, 'precious');
    fs.writeFileSync(file, 'x');
    await expect(checkEndpointUsable(`ipc://${file}`)).rejects.toThrow(/exists and is not a socket/);
    expect(fs.readFileSync(file, 'utf8')).toBe('x');
  });

  it('refuses an ipc socket someone serves on, and passes a stale one', async () => {
    const sock = path.join(tmp, 'live.sock');
    const s = await listen({ path: sock });
    await expect(checkEndpointUsable(`ipc://${sock}`)).rejects.toMatchObject({ code: 'ENDPOINT_IN_USE' });
    await new Promise((r) => s.close(r));
    // A socket file whose server is gone (a second link outlives the server's unlink): zeromq replaces it.
    const orig = path.join(tmp, 'orig.sock');
    const stale = path.join(tmp, 'stale.sock');
    const s2 = await listen({ path: orig });
    fs.linkSync(orig, stale);
    await new Promise((r) => s2.close(r));
    expect(fs.lstatSync(stale).isSocket()).toBe(true);
    await checkEndpointUsable(`ipc://${stale}`);
  });

  it('checks an abstract-namespace ipc name by a trial bind', async () => {
    const name = `osps-ep-test-${process.pid}`;
    await checkEndpointUsable(`ipc://@${name}`);
    await listen({ path: `\0${name}` });
    await expect(checkEndpointUsable(`ipc://@${name}`)).rejects.toMatchObject({ code: 'ENDPOINT_IN_USE' });
  });
});
