// RESP2 reply encoding. Every reply is one Buffer, ready to write.

const CRLF = '\r\n';

/** Error and status lines are one line: CR and LF become spaces, as redis-server does. */
function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, ' ');
}

export function simple(s: string): Buffer {
  return Buffer.from(`+${oneLine(s)}${CRLF}`);
}

/** `-ERR …`, `-WRONGTYPE …`: the first word is the error's code, as in Redis. */
export function error(s: string): Buffer {
  return Buffer.from(`-${oneLine(s)}${CRLF}`);
}

export function integer(n: number | bigint): Buffer {
  return Buffer.from(`:${n}${CRLF}`);
}

export const NULL_BULK = Buffer.from(`$-1${CRLF}`);
export const NULL_ARRAY = Buffer.from(`*-1${CRLF}`);
export const OK = simple('OK');
export const PONG = simple('PONG');

export function bulk(value: string | Uint8Array | null): Buffer {
  if (value === null) return NULL_BULK;
  if (typeof value === 'string') {
    const len = Buffer.byteLength(value);
    const out = Buffer.allocUnsafe(len + String(len).length + 5);
    let at = out.write(`$${len}${CRLF}`, 0, 'latin1');
    at += out.write(value, at, 'utf8');
    out.write(CRLF, at, 'latin1');
    return out;
  }
  return Buffer.concat([Buffer.from(`$${value.length}${CRLF}`), value, Buffer.from(CRLF)]);
}

/** An array of replies already encoded; null is the null array. */
export function array(items: readonly Buffer[] | null): Buffer {
  if (items === null) return NULL_ARRAY;
  return Buffer.concat([Buffer.from(`*${items.length}${CRLF}`), ...items]);
}

/** A bulk reply for each string (null → null bulk). */
export function bulks(items: readonly (string | null)[]): Buffer {
  return array(items.map(bulk));
}
