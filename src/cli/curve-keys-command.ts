// `osps curve-keys`: the key pair that makes the client endpoint a CURVE server.
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import * as zmq from 'zeromq';
import { OspsError, isErrnoException } from '../errors.js';
import { Z85_KEY } from '../runtime/curve-key.js';
import { example } from './help.js';

export const SECRET_FILE = 'server.key';
export const PUBLIC_FILE = 'server.pub';

/** Writes `file` only if nothing is at its name: a key pair in use is never replaced by accident. */
function writeNew(file: string, text: string, mode: number): void {
  try {
    fs.writeFileSync(file, text, { flag: 'wx', mode });
  } catch (err) {
    if (isErrnoException(err) && err.code === 'EEXIST') throw new OspsError('USAGE', `${file} exists: remove it first, or write the new pair with --out to another directory`);
    throw new OspsError('USAGE', `cannot write ${file}: ${(err as Error).message}`);
  }
}

/** Creates `dir` if needed and writes the pair there; returns the public key. */
export function writeCurveKeys(dir: string): { publicKey: string; secretFile: string; publicFile: string } {
  if (!zmq.capability.curve) throw new OspsError('USAGE', 'this zeromq build has no CURVE support');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const { publicKey, secretKey } = zmq.curveKeyPair();
  const secretFile = path.join(dir, SECRET_FILE);
  const publicFile = path.join(dir, PUBLIC_FILE);
  // The public key is checked first: a refusal then leaves no lone secret behind.
  if (fs.existsSync(publicFile)) throw new OspsError('USAGE', `${publicFile} exists: remove it first, or write the new pair with --out to another directory`);
  writeNew(secretFile, `${secretKey}\n`, 0o600);
  writeNew(publicFile, `${publicKey}\n`, 0o644);
  return { publicKey, secretFile, publicFile };
}

/** `--curve-server-key`: a Z85 key itself, or a file holding one (server.pub). */
export function readCurveServerKey(arg: string): string {
  if (Z85_KEY.test(arg)) return arg;
  let text: string;
  try {
    text = fs.readFileSync(arg, 'utf8').trim();
  } catch (err) {
    throw new OspsError('USAGE', `--curve-server-key ${arg}: neither a 40-character Z85 key nor a readable file (${isErrnoException(err) ? err.code : (err as Error).message})`);
  }
  if (!Z85_KEY.test(text)) throw new OspsError('USAGE', `--curve-server-key ${arg}: the file does not hold a 40-character Z85 key (server.pub of osps curve-keys)`);
  return text;
}

export function registerCurveKeys(program: Command): void {
  const cmd = program
    .command('curve-keys')
    .description(`write a CURVE server key pair (${SECRET_FILE}: secret, 0600; ${PUBLIC_FILE}: for clients) and print the public key`)
    .option('--out <dir>', 'directory to write the pair into', '.');
  example(cmd, 'osps curve-keys --out /etc/osps/web', 'osps start --name web --endpoint tcp://0.0.0.0:7400 --curve-secret /etc/osps/web/server.key', 'osps client get greeting --endpoint tcp://db1:7400 --curve-server-key /etc/osps/web/server.pub');
  cmd.action((o: { out: string }) => {
    const { publicKey, secretFile, publicFile } = writeCurveKeys(path.resolve(o.out));
    process.stderr.write(`osps: wrote ${secretFile} (secret: start --curve-secret) and ${publicFile} (give it to clients: --curve-server-key)\n`);
    process.stdout.write(`${publicKey}\n`);
  });
}
