// INFO: Redis's sections, with `role:master` on the primary and osps's own `osps_*` fields.
import type { RespInfo } from './backend.js';
import * as enc from './encoder.js';
import type { CommandSpec } from './spec.js';

/** The Redis version clients see: the command set and replies follow Redis 7's. */
export const REDIS_VERSION = '7.2.0';

function sections(info: RespInfo, clients: number): Record<string, string[]> {
  return {
    server: [`redis_version:${REDIS_VERSION}`, 'redis_mode:standalone', `osps_service:${info.service}`, `process_id:${process.pid}`],
    clients: [`connected_clients:${clients}`],
    persistence: ['loading:0', 'async_loading:0'],
    replication: [
      `role:${info.role === 'primary' ? 'master' : 'slave'}`,
      `connected_slaves:${info.standby === 'absent' ? 0 : 1}`,
      `osps_epoch:${info.epoch}`,
      `osps_commit_seq:${info.commitSeq}`,
      `osps_standby:${info.standby}`,
    ],
    keyspace: info.keys === null || info.keys === 0 ? [] : [`db0:keys=${info.keys},expires=0,avg_ttl=0`],
  };
}

const TITLES: Record<string, string> = { server: 'Server', clients: 'Clients', persistence: 'Persistence', replication: 'Replication', keyspace: 'Keyspace' };

/** The INFO text for these section names (none, `default`, `all`, `everything`: every section). */
export function infoText(info: RespInfo, clients: number, wanted: readonly string[]): string {
  const all = sections(info, clients);
  const names = wanted.map((w) => w.toLowerCase());
  const every = names.length === 0 || names.some((n) => n === 'all' || n === 'default' || n === 'everything');
  const out: string[] = [];
  for (const [name, lines] of Object.entries(all)) {
    if (!every && !names.includes(name)) continue;
    if (out.length > 0) out.push('');
    out.push(`# ${TITLES[name]}`, ...lines);
  }
  return out.length === 0 ? '' : `${out.join('\r\n')}\r\n`;
}

export const INFO_COMMAND: CommandSpec = {
  name: 'info', arity: -1, flags: ['loading', 'stale'], keys: [0, 0, 0], group: 'server', summary: 'Returns information and statistics about the server.',
  run(args, ctx) {
    const wanted = args.slice(1).map((a) => a.toString('latin1'));
    return enc.bulk(infoText(ctx.backend.info(), ctx.connectedClients(), wanted));
  },
};
