// Strings as bytes for the store. A JS string may hold lone surrogates, which UTF-8 cannot
// encode (Buffer writes U+FFFD for each, so two distinct keys would become one): such a
// string is stored as WTF-8 instead, which gives each lone surrogate three bytes of its own.
// WTF-8 is UTF-8 for every well-formed string, and its byte length is Buffer.byteLength's.

import { isWellFormed } from '../../protocol/well-formed.js';

/** Whether `s` has no lone surrogate (and so is plain UTF-8 as bytes). */
export { isWellFormed };

/** Writes `s` at `at`; `buf` must have room for Buffer.byteLength(s) bytes. Returns the bytes written. */
export function writeString(s: string, buf: Buffer, at: number, wellFormed: boolean): number {
  if (wellFormed) return buf.write(s, at, 'utf8');
  let p = at;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      buf[p++] = c;
    } else if (c < 0x800) {
      buf[p++] = 0xc0 | (c >> 6);
      buf[p++] = 0x80 | (c & 0x3f);
    } else {
      const d = c >= 0xd800 && c <= 0xdbff && i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (d >= 0xdc00 && d <= 0xdfff) {
        const cp = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        buf[p++] = 0xf0 | (cp >> 18);
        buf[p++] = 0x80 | ((cp >> 12) & 0x3f);
        buf[p++] = 0x80 | ((cp >> 6) & 0x3f);
        buf[p++] = 0x80 | (cp & 0x3f);
        i++;
      } else {
        buf[p++] = 0xe0 | (c >> 12);
        buf[p++] = 0x80 | ((c >> 6) & 0x3f);
        buf[p++] = 0x80 | (c & 0x3f);
      }
    }
  }
  return p - at;
}

/** Code units decoded per String.fromCharCode call (well under the engine's argument limit). */
const CHUNK = 8192;

/** The string stored in `buf[start, end)`, written by writeString with the same `wellFormed`. */
export function readString(buf: Buffer, start: number, end: number, wellFormed: boolean): string {
  if (wellFormed) return buf.toString('utf8', start, end);
  const units: number[] = [];
  let out = '';
  for (let p = start; p < end; ) {
    const b = buf[p]!;
    if (b < 0x80) {
      units.push(b);
      p += 1;
    } else if (b < 0xe0) {
      units.push(((b & 0x1f) << 6) | (buf[p + 1]! & 0x3f));
      p += 2;
    } else if (b < 0xf0) {
      units.push(((b & 0x0f) << 12) | ((buf[p + 1]! & 0x3f) << 6) | (buf[p + 2]! & 0x3f));
      p += 3;
    } else {
      const cp = ((b & 0x07) << 18) | ((buf[p + 1]! & 0x3f) << 12) | ((buf[p + 2]! & 0x3f) << 6) | (buf[p + 3]! & 0x3f);
      units.push(0xd800 + ((cp - 0x10000) >> 10), 0xdc00 + ((cp - 0x10000) & 0x3ff));
      p += 4;
    }
    if (units.length >= CHUNK) {
      out += String.fromCharCode(...units);
      units.length = 0;
    }
  }
  return out + String.fromCharCode(...units);
}
