// Redis as the anchor: a master and one replica on free loopback ports, each in its own temp
// dir, no persistence files left behind. Returns null when redis-server is not installed.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, waitFor } from './tree.mjs';

export function hasCommand(cmd) {
  return spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
}

function startOne(port, extra) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osps-bench-redis-'));
  const p = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no', ...extra], { stdio: 'ignore' });
  return { proc: p, dir, port };
}

function cli(port, ...args) {
  return spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { encoding: 'utf8' }).stdout ?? '';
}

export async function startRedisPair() {
  if (!hasCommand('redis-server')) return null;
  const master = startOne(await freePort(), []);
  const replica = startOne(await freePort(), []);
  const nodes = [master, replica];
  try {
    await waitFor('redis master', () => cli(master.port, 'ping').trim() === 'PONG', 10_000);
    await waitFor('redis replica', () => cli(replica.port, 'ping').trim() === 'PONG', 10_000);
    cli(replica.port, 'replicaof', '127.0.0.1', String(master.port));
    await waitFor('redis replica in sync', () => /master_link_status:up/.test(cli(replica.port, 'info', 'replication')), 15_000);
  } catch (err) {
    stop(nodes);
    throw err;
  }
  return {
    port: master.port,
    masterPid: master.proc.pid,
    replicaPid: replica.proc.pid,
    stop: () => stop(nodes),
  };
}

async function stop(nodes) {
  for (const n of nodes) {
    if (n.proc.exitCode === null) n.proc.kill('SIGKILL');
    await new Promise((r) => (n.proc.exitCode !== null || n.proc.signalCode !== null ? r() : n.proc.once('exit', r)));
    fs.rmSync(n.dir, { recursive: true, force: true });
  }
}
