// CURVE keys on disk (Z85 text, 40 characters) and the rule for which endpoints need them.
import fs from 'node:fs';
import { OspsError, isErrnoException } from '../errors.js';
import { parseEndpoint } from './endpoint.js';

/** A CURVE key as zeromq takes it: 32 bytes in Z85, 40 characters. */
export const Z85_KEY = /^[0-9a-zA-Z.\-:+=^!/*?&<>()[\]{}@%$#]{40}$/;

export const CURVE_KEYS_HINT = 'create a key pair with `osps curve-keys --out DIR` and pass --curve-secret DIR/server.key';

function unsafe(file: string, why: string): OspsError {
  return new OspsError('CURVE_KEY_UNSAFE', `refusing --curve-secret ${file}: ${why}`);
}

/**
 * The server's secret key from `file`: a regular file of ours (no symlink followed), not
 * readable by group or others, holding one Z85 key. A secret others can read is no secret.
 */
export function loadCurveSecret(file: string): string {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch (err) {
    const code = isErrnoException(err) ? err.code : undefined;
    throw unsafe(file, code === 'ELOOP' ? 'it is a symlink' : `cannot open it (${code ?? (err as Error).message})`);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw unsafe(file, 'not a regular file');
    if (st.uid !== process.getuid?.()) throw unsafe(file, `owned by uid ${st.uid}, not by us`);
    if ((st.mode & 0o077) !== 0) throw unsafe(file, `mode ${(st.mode & 0o777).toString(8).padStart(4, '0')} lets others read it; chmod 600 it`);
    const key = fs.readFileSync(fd, 'utf8').trim();
    if (!Z85_KEY.test(key)) throw unsafe(file, 'it does not hold a 40-character Z85 key (as written by `osps curve-keys`)');
    return key;
  } finally {
    fs.closeSync(fd);
  }
}

const LOOPBACK_HOST = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost)$/;

/** Whether only this host can reach `endpoint`: ipc://, or tcp:// on 127.0.0.0/8 or localhost. */
export function isLocalEndpoint(endpoint: string): boolean {
  const ep = parseEndpoint(endpoint);
  return ep.kind === 'ipc' || LOOPBACK_HOST.test(ep.host);
}

/**
 * The client protocol has no authentication of its own: an endpoint other hosts can reach
 * is served only with CURVE, or when the operator explicitly accepts the risk.
 */
export function checkEndpointExposure(endpoint: string, curveSecretFile: string | undefined, insecure: boolean): void {
  if (curveSecretFile !== undefined || insecure || isLocalEndpoint(endpoint)) return;
  throw new OspsError('ENDPOINT_EXPOSED', `endpoint ${endpoint} is reachable beyond this host and would serve anyone: ${CURVE_KEYS_HINT} (or --insecure-endpoint to accept the risk)`);
}
