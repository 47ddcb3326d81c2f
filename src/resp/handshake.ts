// The commands clients send around their work: PING, ECHO, QUIT, SELECT, HELLO, CLIENT, CONFIG GET.
import * as enc from './encoder.js';
import { NOT_AN_INTEGER, unknownSubcommand, wrongArity } from './errors.js';
import { REDIS_VERSION } from './info.js';
import { type CommandSpec, type Ctx, integerArg } from './spec.js';

/** HELLO's reply in RESP2: a map as a flat array of names and values. */
function helloReply(ctx: Ctx): Buffer {
  const role = ctx.backend.info().role === 'primary' ? 'master' : 'slave';
  return enc.array([
    enc.bulk('server'), enc.bulk('redis'),
    enc.bulk('version'), enc.bulk(REDIS_VERSION),
    enc.bulk('proto'), enc.integer(2),
    enc.bulk('id'), enc.integer(ctx.session.id),
    enc.bulk('mode'), enc.bulk('standalone'),
    enc.bulk('role'), enc.bulk(role),
    enc.bulk('modules'), enc.array([]),
  ]);
}

/** Client names: printable ASCII without spaces, as Redis requires. */
const CLIENT_NAME = /^[!-~]*$/;

function hello(args: Buffer[], ctx: Ctx): Buffer {
  let i = 1;
  if (args.length > 1) {
    const v = integerArg(args[1] as Buffer);
    if (v === null) return enc.error('ERR Protocol version is not an integer or out of range');
    // RESP3 is not spoken here; clients fall back to RESP2 on NOPROTO, as with an old Redis.
    if (v !== 2) return enc.error('NOPROTO unsupported protocol version');
    i = 2;
  }
  let name: string | null | undefined;
  for (; i < args.length; i++) {
    const opt = (args[i] as Buffer).toString('latin1').toUpperCase();
    const left = args.length - i - 1;
    if (opt === 'AUTH' && left >= 2) i += 2; // no users or passwords here: like Redis's nopass default user
    else if (opt === 'SETNAME' && left >= 1) {
      name = (args[++i] as Buffer).toString('latin1');
      if (!CLIENT_NAME.test(name)) return enc.error('ERR Client names cannot contain spaces, newlines or special characters.');
    } else return enc.error(`ERR Syntax error in HELLO option '${opt.slice(0, 64)}'`);
  }
  if (name !== undefined) ctx.session.name = name === '' ? null : name;
  return helloReply(ctx);
}

function client(args: Buffer[], ctx: Ctx): Buffer {
  const sub = (args[1] as Buffer).toString('latin1');
  const s = ctx.session;
  switch (sub.toUpperCase()) {
    case 'SETNAME': {
      if (args.length !== 3) return wrongArity('client|setname');
      const name = (args[2] as Buffer).toString('latin1');
      if (!CLIENT_NAME.test(name)) return enc.error('ERR Client names cannot contain spaces, newlines or special characters.');
      s.name = name === '' ? null : name;
      return enc.OK;
    }
    case 'GETNAME':
      return args.length === 2 ? enc.bulk(s.name) : wrongArity('client|getname');
    case 'ID':
      return args.length === 2 ? enc.integer(s.id) : wrongArity('client|id');
    case 'SETINFO': {
      if (args.length !== 4) return wrongArity('client|setinfo');
      const attr = (args[2] as Buffer).toString('latin1').toUpperCase();
      if (attr !== 'LIB-NAME' && attr !== 'LIB-VER') return enc.error(`ERR Unrecognized option '${attr.slice(0, 64)}'`);
      return enc.OK;
    }
    case 'INFO':
      return args.length === 2 ? enc.bulk(`id=${s.id} name=${s.name ?? ''} db=0 resp=2\n`) : wrongArity('client|info');
    default:
      return unknownSubcommand(sub, 'CLIENT');
  }
}

/**
 * CONFIG GET answers the two settings redis-benchmark reads before it starts; osps keeps
 * no RDB snapshots (`save` is empty) and journals every write (`appendonly` is yes).
 */
const CONFIG: Record<string, string> = { save: '', appendonly: 'yes' };

function config(args: Buffer[]): Buffer {
  const sub = (args[1] as Buffer).toString('latin1');
  if (sub.toUpperCase() !== 'GET') return unknownSubcommand(sub, 'CONFIG');
  if (args.length < 3) return wrongArity('config|get');
  const out: Buffer[] = [];
  for (const a of args.slice(2)) {
    const name = a.toString('latin1').toLowerCase();
    const value = Object.hasOwn(CONFIG, name) ? CONFIG[name] : undefined;
    if (value !== undefined) out.push(enc.bulk(name), enc.bulk(value));
  }
  return enc.array(out);
}

export const HANDSHAKE_COMMANDS: readonly CommandSpec[] = [
  {
    name: 'ping', arity: -1, flags: ['fast'], keys: [0, 0, 0], group: 'connection', summary: 'Returns the server\'s liveliness response.',
    run(args) {
      if (args.length > 2) return wrongArity('ping');
      return args.length === 2 ? enc.bulk(args[1] as Buffer) : enc.PONG;
    },
  },
  {
    name: 'echo', arity: 2, flags: ['fast'], keys: [0, 0, 0], group: 'connection', summary: 'Returns the given string.',
    run: (args) => enc.bulk(args[1] as Buffer),
  },
  {
    name: 'quit', arity: -1, flags: ['fast'], keys: [0, 0, 0], group: 'connection', summary: 'Closes the connection.',
    run(_args, ctx) {
      ctx.session.closeAfterReply = true;
      return enc.OK;
    },
  },
  {
    name: 'select', arity: 2, flags: ['fast'], keys: [0, 0, 0], group: 'connection', summary: 'Changes the selected database (only 0 exists).',
    run(args) {
      const db = integerArg(args[1] as Buffer);
      if (db === null) return NOT_AN_INTEGER;
      return db === 0 ? enc.OK : enc.error('ERR DB index is out of range');
    },
  },
  {
    name: 'hello', arity: -1, flags: ['fast'], keys: [0, 0, 0], group: 'connection', summary: 'Handshakes with the server (RESP2 only).',
    run: hello,
  },
  {
    name: 'client', arity: -2, flags: [], keys: [0, 0, 0], group: 'connection', summary: 'SETNAME, GETNAME, SETINFO, ID, INFO of this connection.',
    run: client,
  },
  {
    name: 'config', arity: -2, flags: ['loading', 'stale'], keys: [0, 0, 0], group: 'server', summary: 'CONFIG GET of the settings benchmarks read (save, appendonly).',
    run: config,
  },
];
