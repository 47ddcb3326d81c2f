// Host error replies as Redis-style error lines: the first word is the code, as in Redis.
import * as enc from './encoder.js';

/** Longest message passed through; error lines are for humans and stay short. */
const MAX_MESSAGE = 512;

function clip(s: string): string {
  return s.length > MAX_MESSAGE ? `${s.slice(0, MAX_MESSAGE)}…` : s;
}

/**
 * BAD_REQUEST, TOO_LARGE, UNKNOWN_OP and INTERNAL are `-ERR`, Redis's generic error.
 * UNAVAILABLE is `-TRYAGAIN`: the write's outcome is unknown and a retry is the way on,
 * which over RESP (no request id) is at-least-once. Every other code (SERVICE_ERROR,
 * POISONED, ID_REUSED, WRONG_TYPE outside INCR, a service's own) keeps its name.
 */
export function hostError(code: string, message: string): Buffer {
  const m = clip(message);
  switch (code) {
    case 'BAD_REQUEST':
    case 'TOO_LARGE':
    case 'UNKNOWN_OP':
      return enc.error(`ERR ${m}`);
    case 'INTERNAL':
      return enc.error(`ERR internal error: ${m}`);
    case 'UNAVAILABLE':
      return enc.error(`TRYAGAIN ${m} (the write's outcome is unknown; a retry may apply it twice)`);
    default:
      return enc.error(/^[A-Z][A-Z0-9_]{1,31}$/.test(code) ? `${code} ${m}` : `ERR ${m}`);
  }
}

export const NOT_AN_INTEGER = enc.error('ERR value is not an integer or out of range');
export const SYNTAX_ERROR = enc.error('ERR syntax error');

export function wrongArity(name: string): Buffer {
  return enc.error(`ERR wrong number of arguments for '${name}' command`);
}

/** redis-server's wording, with the same 128-character bounds on what it quotes back. */
export function unknownCommand(name: string, args: readonly Buffer[]): Buffer {
  let quoted = '';
  for (const a of args) {
    if (quoted.length >= 128) break;
    quoted += `'${a.toString('utf8').slice(0, 128 - quoted.length)}' `;
  }
  return enc.error(`ERR unknown command '${name.slice(0, 128)}', with args beginning with: ${quoted}`);
}

export function unknownSubcommand(sub: string, cmd: string): Buffer {
  return enc.error(`ERR unknown subcommand '${sub.slice(0, 128)}'. Try ${cmd} HELP.`);
}
