// `osps status --watch`: the status table redrawn in place every 500 ms until Ctrl-C, with
// the write rate (commit point per second between two polls) and the last events.
import { setTimeout as sleep } from 'node:timers/promises';
import { adminRequest } from '../client/admin-client.js';
import type { InstanceStatus } from '../protocol/admin.js';
import type { RuntimePaths } from '../runtime/paths.js';
import { formatFields } from '../log.js';
import { renderStatus } from './status-command.js';

export const WATCH_INTERVAL_MS = 500;
const LAST_EVENTS = 10;

function eventLine(e: Record<string, unknown>): string {
  const { ts, event, ...fields } = e;
  return `  ${String(ts).slice(11, 23)} ${String(event)}${formatFields(fields as Parameters<typeof formatFields>[0])}`;
}

export function renderWatch(s: InstanceStatus, writeRate: number | null, now: Date): string {
  const rate = writeRate === null ? '-' : `${Math.round(writeRate)}/s`;
  return [
    `osps status --watch  ${now.toISOString().slice(11, 19)}  (Ctrl-C to quit)`,
    renderStatus(s).trimEnd(),
    `writes ${rate}`,
    '',
    'last events:',
    ...s.events.slice(-LAST_EVENTS).map(eventLine),
  ].join('\n');
}

/** Redraws until SIGINT/SIGTERM; an instance that is not (yet, or any more) running is shown as such. */
export async function watchStatus(paths: RuntimePaths, out: NodeJS.WriteStream = process.stdout): Promise<void> {
  let stopped = false;
  const stop = (): void => {
    stopped = true;
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  let last: { seq: number; at: number; epoch: number } | null = null;
  out.write('\x1b[?25l'); // hide the cursor while redrawing
  try {
    while (!stopped) {
      const reply = await adminRequest(paths, { op: 'status' }, 400);
      const now = Date.now();
      let frame: string;
      if (reply?.ok && typeof reply.result === 'object') {
        const s = reply.result;
        // A new primary's commit point is not comparable with the old one's: no rate across an epoch.
        const rate = last && last.epoch === s.epoch && now > last.at ? ((s.commitSeq - last.seq) * 1000) / (now - last.at) : null;
        last = { seq: s.commitSeq, at: now, epoch: s.epoch };
        frame = renderWatch(s, rate, new Date(now));
      } else {
        last = null;
        frame = `osps status --watch  ${new Date(now).toISOString().slice(11, 19)}  (Ctrl-C to quit)\ninstance '${paths.name}' is not running`;
      }
      // Home, then each line cleared to its end, then everything below: no flicker, no scroll.
      out.write(`\x1b[H${frame.split('\n').map((l) => `${l}\x1b[K`).join('\n')}\n\x1b[J`);
      const until = now + WATCH_INTERVAL_MS;
      while (!stopped && Date.now() < until) await sleep(50);
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    out.write('\x1b[?25h\n');
  }
}
