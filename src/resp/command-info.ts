// COMMAND, COMMAND COUNT / INFO / DOCS / LIST: enough of Redis 7's replies that redis-cli
// and client libraries that ask about commands accept them.
import * as enc from './encoder.js';
import { unknownSubcommand, wrongArity } from './errors.js';
import type { CommandSpec, Ctx } from './spec.js';

/** Redis 7's ten fields: name, arity, flags, first/last key, step, ACL categories, tips, key specs, subcommands. */
function infoEntry(s: CommandSpec): Buffer {
  return enc.array([
    enc.bulk(s.name),
    enc.integer(s.arity),
    enc.array(s.flags.map(enc.simple)),
    enc.integer(s.keys[0]),
    enc.integer(s.keys[1]),
    enc.integer(s.keys[2]),
    enc.array([enc.simple(`@${s.group}`)]),
    enc.array([]),
    enc.array([]),
    enc.array([]),
  ]);
}

function docEntry(s: CommandSpec): Buffer[] {
  const doc = enc.array([
    enc.bulk('summary'), enc.bulk(s.summary),
    enc.bulk('since'), enc.bulk('1.0.0'),
    enc.bulk('group'), enc.bulk(s.group),
    enc.bulk('arguments'), enc.array([]),
  ]);
  return [enc.bulk(s.name), doc];
}

function find(specs: readonly CommandSpec[], name: Buffer): CommandSpec | undefined {
  const n = name.toString('latin1').toLowerCase();
  return specs.find((s) => s.name === n);
}

export const COMMAND_COMMAND: CommandSpec = {
  name: 'command', arity: -1, flags: ['loading', 'stale'], keys: [0, 0, 0], group: 'server', summary: 'Returns details about commands.',
  run(args, ctx: Ctx) {
    const specs = ctx.specs();
    if (args.length === 1) return enc.array(specs.map(infoEntry));
    const sub = (args[1] as Buffer).toString('latin1');
    const names = args.slice(2);
    switch (sub.toUpperCase()) {
      case 'COUNT':
        return args.length === 2 ? enc.integer(specs.length) : wrongArity('command|count');
      case 'LIST':
        return enc.bulks(specs.map((s) => s.name));
      case 'INFO': {
        const chosen = names.length === 0 ? specs : names.map((n) => find(specs, n));
        return enc.array(chosen.map((s) => (s ? infoEntry(s) : enc.NULL_ARRAY)));
      }
      case 'DOCS': {
        const chosen = names.length === 0 ? specs : names.map((n) => find(specs, n)).filter((s) => s !== undefined);
        return enc.array(chosen.flatMap(docEntry));
      }
      default:
        return unknownSubcommand(sub, 'COMMAND');
    }
  },
};
