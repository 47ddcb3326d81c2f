import { describe, expect, it } from 'vitest';
import { parseRespAddress } from '../../dist/runtime/resp-address.js';

describe('--resp HOST:PORT', () => {
  it('accepts an IPv4 address, a host name and a bracketed IPv6 address', () => {
    expect(parseRespAddress('127.0.0.1:6380')).toEqual({ host: '127.0.0.1', port: 6380 });
    expect(parseRespAddress('localhost:1')).toEqual({ host: 'localhost', port: 1 });
    expect(parseRespAddress('[::1]:65535')).toEqual({ host: '::1', port: 65535 });
  });

  it('refuses port 0, ports over 65535 and addresses without a port, as usage errors', () => {
    for (const bad of ['127.0.0.1:0', '127.0.0.1:65536', '127.0.0.1', ':6380', 'tcp://127.0.0.1:6380', '::1:6380']) {
      expect(() => parseRespAddress(bad), bad).toThrow(expect.objectContaining({ code: 'USAGE' }));
    }
  });
});
