// Starts and stops a real osps tree for benchmarks, through the shared harness (dist/harness):
// the same CLI an operator uses, read from its JSON event stream.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Tree as HarnessTree } from '../dist/harness/tree.js';
import { freePort } from '../dist/net/free-port.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export { freePort, sleep };

export async function waitFor(what, fn, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

// A pid of 0 or 1 passed to process.kill would signal a whole process group or init.
function positive(pid) {
  if (!Number.isInteger(pid) || pid <= 1) throw new Error(`no pid known (got ${pid})`);
  return pid;
}

/** An event as a flat record: `{ event, role, pid, … }` (field values as strings). */
const flat = (e) => ({ ...e.fields, event: e.event });

/** A running tree: its events, who holds which role, and when it was started (performance.now()). */
export class Tree {
  constructor(label, extraArgs = [], env = undefined) {
    this.env = env;
    this.name = `bench-${label}-${process.pid}`;
    this.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'osps-bench-'));
    this.extraArgs = extraArgs;
  }

  async start() {
    this.port = await freePort();
    this.endpoint = `tcp://127.0.0.1:${this.port}`;
    this.tree = new HarnessTree({
      name: this.name,
      runtimeRoot: path.join(this.tmp, 'run'),
      dataDir: path.join(this.tmp, 'data'),
      endpoint: this.endpoint,
      args: this.extraArgs,
      env: this.env,
    });
    this.startedAt = performance.now();
    await this.tree.start({ waitReady: false });
    this.proc = { pid: this.tree.launcherPid };
  }

  get events() {
    return this.tree.events.map(flat);
  }

  async waitEvent(pred, timeoutMs = 15_000, from = 0) {
    return flat(await this.tree.waitEvent((e) => pred(flat(e)), timeoutMs, from));
  }

  pid(role) {
    return positive(this.tree.pid(role));
  }

  get watchdogPid() {
    return positive(this.tree.watchdogPid);
  }

  async stop() {
    await this.tree.stop(10_000);
    fs.rmSync(this.tmp, { recursive: true, force: true });
  }
}
