// Which endpoints need CURVE, and which secret key files are refused.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import * as zmq from 'zeromq';
import { checkEndpointExposure, isLocalEndpoint, loadCurveSecret } from '../../src/runtime/curve-key.js';

describe('endpoints beyond loopback', () => {
  it('loopback and ipc are local; any other tcp host is not', () => {
    for (const ep of ['tcp://127.0.0.1:7400', 'tcp://127.9.8.7:1', 'tcp://localhost:7400', 'ipc:///tmp/x.sock']) expect(isLocalEndpoint(ep)).toBe(true);
    for (const ep of ['tcp://0.0.0.0:7400', 'tcp://*:7400', 'tcp://10.0.0.1:7400', 'tcp://eth0:7400', 'tcp://128.0.0.1:7400']) expect(isLocalEndpoint(ep)).toBe(false);
  });

  it('an exposed endpoint passes only with a key or an explicit --insecure-endpoint', () => {
    expect(() => checkEndpointExposure('tcp://0.0.0.0:7400', undefined, false)).toThrow(/osps curve-keys/);
    expect(() => checkEndpointExposure('tcp://0.0.0.0:7400', '/k/server.key', false)).not.toThrow();
    expect(() => checkEndpointExposure('tcp://0.0.0.0:7400', undefined, true)).not.toThrow();
    expect(() => checkEndpointExposure('tcp://127.0.0.1:7400', undefined, false)).not.toThrow();
  });
});

describe('loadCurveSecret', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });
  function keyFile(mode: number, text = `${zmq.curveKeyPair().secretKey}\n`): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osps-curve-'));
    dirs.push(dir);
    const f = path.join(dir, 'server.key');
    fs.writeFileSync(f, text, { mode });
    fs.chmodSync(f, mode);
    return f;
  }

  it('reads a private key of ours', () => {
    expect(loadCurveSecret(keyFile(0o600))).toMatch(/^.{40}$/);
  });

  it('refuses a key others can read, a symlink, and a file that holds no key', () => {
    expect(() => loadCurveSecret(keyFile(0o640))).toThrow(/mode 0640 lets others read it/);
    const f = keyFile(0o600);
    const link = path.join(path.dirname(f), 'link.key');
    fs.symlinkSync(f, link);
    expect(() => loadCurveSecret(link)).toThrow(/is a symlink/);
    expect(() => loadCurveSecret(keyFile(0o600, 'not a key\n'))).toThrow(/40-character Z85 key/);
  });
});
