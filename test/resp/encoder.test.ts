// RESP2 reply encoding.
import { describe, expect, it } from 'vitest';
import * as enc from '../../dist/resp/encoder.js';
import { hostError } from '../../dist/resp/errors.js';

const s = (b: Buffer): string => b.toString('utf8');

describe('RESP encoder', () => {
  it('encodes simple strings, errors and integers, one line each', () => {
    expect(s(enc.simple('OK'))).toBe('+OK\r\n');
    expect(s(enc.error('ERR bad\r\nthing'))).toBe('-ERR bad thing\r\n');
    expect(s(enc.integer(-42))).toBe(':-42\r\n');
    expect(s(enc.integer(2n ** 60n))).toBe(`:${2n ** 60n}\r\n`);
  });

  it('encodes bulk strings by byte length, binary-safe, and the null bulk', () => {
    expect(s(enc.bulk('héllo'))).toBe('$6\r\nhéllo\r\n');
    expect(s(enc.bulk(''))).toBe('$0\r\n\r\n');
    expect(enc.bulk(Buffer.from([0, 13, 10, 255]))).toEqual(Buffer.from([0x24, 0x34, 13, 10, 0, 13, 10, 255, 13, 10]));
    expect(s(enc.bulk(null))).toBe('$-1\r\n');
  });

  it('encodes arrays, nested and null', () => {
    expect(s(enc.array([enc.bulk('a'), enc.integer(1), enc.array([])]))).toBe('*3\r\n$1\r\na\r\n:1\r\n*0\r\n');
    expect(s(enc.bulks(['x', null]))).toBe('*2\r\n$1\r\nx\r\n$-1\r\n');
    expect(s(enc.array(null))).toBe('*-1\r\n');
  });

  it('maps host error codes to Redis-style error lines', () => {
    expect(s(hostError('BAD_REQUEST', "'key' must be a non-empty string"))).toBe("-ERR 'key' must be a non-empty string\r\n");
    expect(s(hostError('UNAVAILABLE', 'replication stalled'))).toMatch(/^-TRYAGAIN replication stalled/);
    expect(s(hostError('INTERNAL', 'oops'))).toBe('-ERR internal error: oops\r\n');
    expect(s(hostError('POISONED', 'quarantined'))).toBe('-POISONED quarantined\r\n');
    expect(s(hostError('INSUFFICIENT_FUNDS', 'balance 3'))).toBe('-INSUFFICIENT_FUNDS balance 3\r\n');
    expect(s(hostError('lower case', 'x'))).toBe('-ERR x\r\n');
    expect(s(hostError('SERVICE_ERROR', 'a\nb'.repeat(400))).length).toBeLessThan(600);
  });
});
