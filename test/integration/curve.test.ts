// CURVE on the client endpoint: a client that knows the server's public key is served, one
// that does not never gets through the handshake, and an endpoint other hosts can reach is
// refused at start unless it has a key (or the risk is accepted explicitly).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as zmq from 'zeromq';
import { ClientError } from '../../dist/client/errors.js';
import { Instance, freePort, waitFor } from '../helpers/instance.js';
import { tracked } from '../helpers/tracked.js';

const { track, client } = tracked();

/** `osps curve-keys --out DIR` through the CLI; returns the key files and the printed public key. */
async function curveKeys(i: Instance): Promise<{ secret: string; pub: string; publicKey: string }> {
  const dir = path.join(i.tmp, 'keys');
  const r = await i.cli(['curve-keys', '--out', dir]);
  expect(r.exitCode).toBe(0);
  const secret = path.join(dir, 'server.key');
  const pub = path.join(dir, 'server.pub');
  return { secret, pub, publicKey: r.stdout.trim() };
}

/** Runs `start` to its end: a refusal ends it before anything is spawned. */
async function startRefused(i: Instance, extraArgs: string[]): Promise<{ exitCode: number | undefined; stderr: string }> {
  i.opts.extraArgs = extraArgs;
  await i.start({ waitReady: false });
  const r = await Promise.race([i.proc, new Promise<null>((res) => setTimeout(() => res(null), 15_000))]);
  return { exitCode: r ? (r.exitCode ?? undefined) : undefined, stderr: i.stderr };
}

describe('osps curve-keys', () => {
  it('writes a Z85 pair, the secret 0600, prints the public key, and never overwrites a pair', async () => {
    const i = new Instance('curve-keys');
    try {
      const k = await curveKeys(i);
      expect(k.publicKey).toMatch(/^.{40}$/);
      expect(fs.readFileSync(k.pub, 'utf8').trim()).toBe(k.publicKey);
      expect(fs.readFileSync(k.secret, 'utf8').trim()).toMatch(/^.{40}$/);
      expect(fs.statSync(k.secret).mode & 0o777).toBe(0o600);
      const again = await i.cli(['curve-keys', '--out', path.dirname(k.secret)]);
      expect(again.exitCode).toBe(2);
      expect(fs.readFileSync(k.pub, 'utf8').trim()).toBe(k.publicKey);
    } finally {
      await i.destroy();
    }
  });
});

describe('a CURVE endpoint', () => {
  it('serves a client with the server key, gives a plain client no answer, keeps serving, and the promoted standby uses the key too', async () => {
    const i = track(new Instance('curve-serve'));
    const k = await curveKeys(i);
    i.opts.extraArgs = ['--curve-secret', k.secret];
    await i.start();

    const good = client(i.endpoint, undefined, { curveServerKey: k.publicKey });
    await good.set('greeting', 'hello');
    expect(await good.get('greeting')).toBe('hello');

    // No key: the handshake never completes, so the request is never even delivered.
    const plain = client(i.endpoint, 800);
    const err = await plain.get('greeting').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect((err as ClientError).code).toBe('TIMEOUT');
    // A client that knows another server's key fails the same way.
    const wrong = client(i.endpoint, 800, { curveServerKey: zmq.curveKeyPair().publicKey });
    expect(((await wrong.get('greeting').catch((e: unknown) => e)) as ClientError).code).toBe('TIMEOUT');

    // The primary keeps serving the others, and the CLI takes the key from server.pub.
    expect(await good.incr('n')).toBe(1);
    const viaCli = await i.cli(['client', 'get', 'greeting', '--endpoint', i.endpoint, '--curve-server-key', k.pub]);
    expect(viaCli.stdout.trim()).toBe('hello');
    expect(viaCli.exitCode).toBe(0);
    const bench = await i.cli(['bench', '--endpoint', i.endpoint, '--curve-server-key', k.pub, '--clients', '2', '--duration', '0.5', '--json']);
    expect(bench.exitCode).toBe(0);
    expect((JSON.parse(bench.stdout) as { ops: number }).ops).toBeGreaterThan(0);

    // The standby loaded the key at its start: once promoted it serves CURVE on the same port.
    const oldPrimary = i.currentPid('primary');
    process.kill(oldPrimary, 'SIGKILL');
    await i.waitEvent((e) => e.event === 'promoted', 10_000);
    expect(await good.get('greeting')).toBe('hello');
    const fresh = client(i.endpoint, undefined, { curveServerKey: k.publicKey });
    expect(await fresh.incr('n')).toBe(2);
  });

  it('a world-readable secret is refused in one line, exit 2, before anything is spawned', async () => {
    const i = track(new Instance('curve-mode'));
    const k = await curveKeys(i);
    fs.chmodSync(k.secret, 0o644);
    const r = await startRefused(i, ['--curve-secret', k.secret]);
    expect(r.stderr).toBe(`osps: refusing --curve-secret ${k.secret}: mode 0644 lets others read it; chmod 600 it\n`);
    expect(r.exitCode).toBe(2);
    expect(fs.existsSync(i.paths.dir)).toBe(false);
  });
});

describe('an endpoint beyond loopback', () => {
  it('is refused without --curve-secret: one line telling how to create keys, exit 2', async () => {
    const i = track(new Instance('curve-exposed'));
    const ep = `tcp://0.0.0.0:${await freePort()}`;
    const r = await startRefused(i, ['--endpoint', ep]);
    expect(r.stderr).toMatch(new RegExp(`^osps: endpoint ${ep.replace(/\./g, '\\.')} is reachable beyond this host .*osps curve-keys --out DIR.*--curve-secret.*--insecure-endpoint.*\\n$`));
    expect(r.stderr.split('\n')).toHaveLength(2);
    expect(r.exitCode).toBe(2);
    expect(fs.existsSync(i.paths.dir)).toBe(false);
  });

  it('passes the check with a key, here from a config file (curveSecretFile, relative to the file)', async () => {
    const i = track(new Instance('curve-exposed-key'));
    const k = await curveKeys(i);
    const port = await freePort();
    const file = path.join(i.tmp, 'osps.json');
    fs.writeFileSync(file, JSON.stringify({ curveSecretFile: path.relative(i.tmp, k.secret) }));
    i.opts.extraArgs = ['--endpoint', `tcp://0.0.0.0:${port}`, '--config', file];
    await i.start();
    const c = client(`tcp://127.0.0.1:${port}`, undefined, { curveServerKey: k.publicKey });
    await waitFor('a reply over CURVE', async () => (await c.ping()) === 'pong', 10_000);
  });
});
