// The RESP command table over an in-memory backend: Redis's replies and error wording.
import { describe, expect, it } from 'vitest';
import { CommandTable } from '../../dist/resp/commands.js';
import type { Session } from '../../dist/resp/spec.js';
import { FakeBackend } from './fake-backend.js';

function setup(backend = new FakeBackend()) {
  const table = new CommandTable(backend, { connectedClients: () => 7 });
  const session: Session = { id: 12, name: null, closeAfterReply: false };
  const ctx = table.context(session);
  const run = async (...args: (string | Buffer)[]): Promise<string> =>
    (await table.run(args.map((a) => (Buffer.isBuffer(a) ? a : Buffer.from(a))), ctx)).toString('utf8');
  return { backend, table, session, run };
}

describe('RESP command table', () => {
  it('answers the key-value commands, names matched without regard to case', async () => {
    const { run } = setup();
    expect(await run('PING')).toBe('+PONG\r\n');
    expect(await run('ping', 'hi')).toBe('$2\r\nhi\r\n');
    expect(await run('EcHo', 'x y')).toBe('$3\r\nx y\r\n');
    expect(await run('GET', 'k')).toBe('$-1\r\n');
    expect(await run('set', 'k', 'v')).toBe('+OK\r\n');
    expect(await run('GET', 'k')).toBe('$1\r\nv\r\n');
    expect(await run('EXISTS', 'k', 'k', 'nope')).toBe(':2\r\n');
    expect(await run('INCR', 'n')).toBe(':1\r\n');
    expect(await run('incrby', 'n', '-5')).toBe(':-4\r\n');
    expect(await run('MGET', 'k', 'nope', 'n')).toBe('*3\r\n$1\r\nv\r\n$-1\r\n$2\r\n-4\r\n');
    expect(await run('DEL', 'k', 'n', 'nope')).toBe(':2\r\n');
    expect(await run('GET', 'k')).toBe('$-1\r\n');
  });

  it('words errors as Redis does', async () => {
    const { run } = setup();
    expect(await run('GET')).toBe("-ERR wrong number of arguments for 'get' command\r\n");
    expect(await run('PING', 'a', 'b')).toBe("-ERR wrong number of arguments for 'ping' command\r\n");
    expect(await run('FOO', 'a', 'b')).toBe("-ERR unknown command 'FOO', with args beginning with: 'a' 'b' \r\n");
    expect(await run('set', 's', 'abc')).toBe('+OK\r\n');
    expect(await run('INCR', 's')).toBe('-ERR value is not an integer or out of range\r\n');
    expect(await run('INCRBY', 'n', '1.5')).toBe('-ERR value is not an integer or out of range\r\n');
    expect(await run('set', 'big', String(2 ** 53 - 1))).toBe('+OK\r\n');
    expect(await run('INCR', 'big')).toBe('-ERR value is not an integer or out of range\r\n');
    expect(await run('GET', '')).toBe("-ERR 'key' must be a non-empty string\r\n");
    expect(await run('GET', Buffer.from([0xff, 0xfe]))).toBe('-ERR osps stores text: an argument is not valid UTF-8\r\n');
  });

  it('refuses SET options it does not implement, and unknown ones as a syntax error', async () => {
    const { run, backend } = setup();
    expect(await run('SET', 'k', 'v', 'EX', '10')).toBe("-ERR SET option 'EX' is not supported by osps\r\n");
    expect(await run('SET', 'k', 'v', 'nx')).toBe("-ERR SET option 'NX' is not supported by osps\r\n");
    expect(await run('SET', 'k', 'v', 'whatever')).toBe('-ERR syntax error\r\n');
    expect(backend.state.size).toBe(0);
  });

  it('gives every call a fresh id, unique across tables (at-least-once over RESP)', async () => {
    const a = setup();
    const b = setup(a.backend);
    await a.run('SET', 'k', 'v');
    await a.run('SET', 'k', 'v');
    await b.run('SET', 'k', 'v');
    await a.run('DEL', 'x', 'y');
    expect(new Set(a.backend.ids).size).toBe(5);
    expect(a.backend.ids.every((id) => id.length >= 1 && id.length <= 128)).toBe(true);
  });

  it('maps host errors: UNAVAILABLE is TRYAGAIN, other codes keep their name', async () => {
    const { run, backend } = setup();
    backend.failing.set('set', { ok: false, error: { code: 'UNAVAILABLE', message: 'replication stalled' } });
    expect(await run('SET', 'k', 'v')).toMatch(/^-TRYAGAIN replication stalled/);
    backend.failing.set('del', { ok: false, error: { code: 'POISONED', message: 'quarantined' } });
    expect(await run('DEL', 'a', 'b')).toBe('-POISONED quarantined\r\n');
  });

  it('answers the handshakes of common clients', async () => {
    const { run, session } = setup();
    expect(await run('HELLO', '3')).toBe('-NOPROTO unsupported protocol version\r\n');
    expect(await run('HELLO', 'x')).toBe('-ERR Protocol version is not an integer or out of range\r\n');
    const hello = await run('HELLO', '2', 'AUTH', 'default', 'pw', 'SETNAME', 'me');
    expect(hello).toMatch(/^\*14\r\n\$6\r\nserver\r\n\$5\r\nredis\r\n/);
    expect(hello).toContain('$5\r\nproto\r\n:2\r\n$2\r\nid\r\n:12\r\n');
    expect(hello).toContain('$4\r\nrole\r\n$6\r\nmaster\r\n');
    expect(session.name).toBe('me');
    expect(await run('HELLO')).toMatch(/^\*14\r\n/);
    expect(await run('CLIENT', 'SETNAME', 'app')).toBe('+OK\r\n');
    expect(await run('client', 'getname')).toBe('$3\r\napp\r\n');
    expect(await run('CLIENT', 'SETNAME', 'a b')).toMatch(/^-ERR Client names cannot contain spaces/);
    expect(await run('CLIENT', 'SETINFO', 'LIB-NAME', 'ioredis')).toBe('+OK\r\n');
    expect(await run('CLIENT', 'SETINFO', 'lib-ver', '5.11.1')).toBe('+OK\r\n');
    expect(await run('CLIENT', 'SETINFO', 'color', 'red')).toBe("-ERR Unrecognized option 'COLOR'\r\n");
    expect(await run('CLIENT', 'ID')).toBe(':12\r\n');
    expect(await run('CLIENT', 'KILL')).toBe("-ERR unknown subcommand 'KILL'. Try CLIENT HELP.\r\n");
    expect(await run('SELECT', '0')).toBe('+OK\r\n');
    expect(await run('SELECT', '1')).toBe('-ERR DB index is out of range\r\n');
    expect(await run('SELECT', 'x')).toBe('-ERR value is not an integer or out of range\r\n');
    expect(await run('CONFIG', 'GET', 'save', 'APPENDONLY', 'maxmemory')).toBe('*4\r\n$4\r\nsave\r\n$0\r\n\r\n$10\r\nappendonly\r\n$3\r\nyes\r\n');
    expect(await run('CONFIG', 'SET', 'save', '')).toBe("-ERR unknown subcommand 'SET'. Try CONFIG HELP.\r\n");
    expect(await run('QUIT')).toBe('+OK\r\n');
    expect(session.closeAfterReply).toBe(true);
  });

  it('describes its commands: COMMAND, COUNT, INFO, DOCS, LIST', async () => {
    const { run } = setup();
    const count = Number(/^:(\d+)/.exec(await run('COMMAND', 'COUNT'))?.[1]);
    expect(count).toBe(17); // 6 handshakes, CONFIG, INFO, COMMAND, 7 key-value commands, OSPS.CALL
    expect(await run('COMMAND')).toMatch(new RegExp(`^\\*${count}\\r\\n`));
    expect(await run('COMMAND', 'INFO', 'get', 'nope')).toBe(
      '*2\r\n*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n*1\r\n+@string\r\n*0\r\n*0\r\n*0\r\n*-1\r\n',
    );
    expect(await run('COMMAND', 'DOCS', 'set')).toMatch(/^\*2\r\n\$3\r\nset\r\n\*8\r\n\$7\r\nsummary\r\n/);
    expect(await run('COMMAND', 'LIST')).toContain('$9\r\nosps.call\r\n');
    expect(await run('COMMAND', 'nope')).toBe("-ERR unknown subcommand 'nope'. Try COMMAND HELP.\r\n");
  });

  it('INFO says role:master and the osps fields, by section', async () => {
    const { run } = setup();
    await run('SET', 'a', '1');
    const all = await run('INFO');
    for (const f of ['# Replication', 'role:master', 'osps_epoch:3', 'osps_commit_seq:1', 'osps_standby:in-sync', 'connected_clients:7', 'loading:0', 'db0:keys=1']) {
      expect(all).toContain(f);
    }
    const repl = await run('info', 'REPLICATION');
    expect(repl).toContain('role:master');
    expect(repl).not.toContain('# Server');
    expect(await run('INFO', 'nope')).toBe('$0\r\n\r\n');
  });

  it('makes each op of a service a command with one JSON argument, and OSPS.CALL reaches any op', async () => {
    const backend = new FakeBackend({
      kv: false,
      commands: {
        transfer: (a) => ({ moved: (a as { amount: number }).amount }),
        Get: () => 'the service op',
        fail: () => {
          throw Object.assign(new Error('balance 3'), { code: 'INSUFFICIENT_FUNDS' });
        },
      },
      queries: { balance: (a) => (a === null ? 0 : 5), echo: (a) => a },
    });
    const { run } = setup(backend);
    expect(await run('TRANSFER', '{"amount":5}')).toBe('$11\r\n{"moved":5}\r\n');
    expect(await run('balance')).toBe('$1\r\n0\r\n');
    expect(await run('transfer', 'not json')).toBe('-ERR the argument is not valid JSON\r\n');
    expect(await run('transfer', '1', '2')).toBe("-ERR wrong number of arguments for 'transfer' command\r\n");
    expect(await run('FAIL')).toBe('-INSUFFICIENT_FUNDS balance 3\r\n');
    // A name that collides with a built-in goes to the built-in (ECHO); GET, a key-value
    // built-in, is not there for a service without a `get` op, and `Get` is reachable only by OSPS.CALL.
    expect(await run('ECHO', '"x"')).toBe('$3\r\n"x"\r\n');
    expect(await run('GET', 'k')).toMatch(/^-ERR unknown command 'GET'/);
    expect(await run('OSPS.CALL', 'echo', '{"a":[1]}')).toBe('$9\r\n{"a":[1]}\r\n');
    expect(await run('osps.call', 'Get')).toBe('$16\r\n"the service op"\r\n');
    expect(await run('OSPS.CALL', 'ping')).toBe('$6\r\n"pong"\r\n');
    expect(await run('OSPS.CALL', 'info')).toMatch(/"role":"primary"/);
    expect(await run('OSPS.CALL', 'nope')).toBe("-ERR unknown op 'nope'\r\n");
  });

  it('never throws when the backend does', async () => {
    const backend = new FakeBackend();
    backend.query = () => {
      throw new Error('boom');
    };
    backend.command = () => Promise.reject(new Error('later boom'));
    const { run } = setup(backend);
    expect(await run('GET', 'k')).toBe('-ERR internal error: boom\r\n');
    expect(await run('SET', 'k', 'v')).toBe('-ERR internal error: later boom\r\n');
    backend.info = () => {
      throw new Error('no info');
    };
    expect(await run('INFO')).toBe('-ERR internal error: no info\r\n');
  });
});
