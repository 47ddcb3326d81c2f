import type { Command } from 'commander';
import type { InstanceStatus, ProcessStatus } from '../protocol/admin.js';
import { adminRequest } from '../client/admin-client.js';
import { instanceOptions, pathsFrom, type InstanceOpts } from './options.js';
import { fail } from './output.js';
import { example } from './help.js';
import { watchStatus } from './status-watch.js';

export function registerStatus(program: Command): void {
  const cmd = program.command('status').description('per-process role, pid, state, uptime, CPU, RSS, ping RTT, restarts').option('--json', 'print the status object as JSON')
    .option('-w, --watch', 'redraw the table in place every 500 ms, with write rate and last events, until Ctrl-C');
  instanceOptions(cmd);
  example(cmd, 'osps status --name web', 'osps status --name web --json', 'osps status --name web --watch');
  cmd.action(async (o: InstanceOpts & { json?: boolean; watch?: boolean }) => {
    const paths = pathsFrom(o);
    if (o.watch) {
      await watchStatus(paths);
      return;
    }
    const reply = await adminRequest(paths, { op: 'status' });
    if (!reply) {
      process.exitCode = fail(`instance '${o.name}' is not running`);
      return;
    }
    if (!reply.ok || typeof reply.result !== 'object') {
      process.exitCode = fail(reply.ok ? 'unexpected status reply' : reply.error);
      return;
    }
    if (o.json) process.stdout.write(`${JSON.stringify(reply.result)}\n`);
    else process.stdout.write(renderStatus(reply.result));
  });
}

function fmtMs(ms: number | null): string {
  if (ms === null) return '-';
  if (ms < 1000) return `${ms}ms`;
  const s = Math.floor(ms / 1000);
  return s < 120 ? `${s}s` : s < 7200 ? `${Math.floor(s / 60)}m` : `${Math.floor(s / 3600)}h`;
}

function row(p: ProcessStatus): string[] {
  return [
    p.role,
    String(p.pid),
    p.state,
    fmtMs(p.uptimeMs),
    p.cpu === null ? '-' : `${p.cpu.toFixed(1)}%`,
    p.rss === null ? '-' : `${(p.rss / 1048576).toFixed(1)}M`,
    p.lastPingRttMs === null ? '-' : `${p.lastPingRttMs}ms`,
    String(p.restarts),
  ];
}

export function renderStatus(s: InstanceStatus): string {
  const head = ['ROLE', 'PID', 'STATE', 'UPTIME', 'CPU', 'RSS', 'PING', 'RESTARTS'];
  const rows = [head, ...s.processes.map(row)];
  const widths = head.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const lines = rows.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd());
  return [
    `instance ${s.name}  endpoint ${s.endpoint}  phase ${s.phase}`,
    `epoch ${s.epoch}  commitSeq ${s.commitSeq}  standby ${s.standby}  restarts(window) ${s.recentRestarts}`,
    ...(s.diverged ? [`DIVERGED: ${s.diverged.count} standby(s) replaced, last ${fmtMs(s.diverged.agoMs)} ago: ${s.diverged.reason}`] : []),
    ...lines,
    '',
  ].join('\n');
}
