// `--metrics HOST:PORT`: the observation endpoint (src/observe/), loaded with a dynamic
// import only when enabled, so a watchdog without it never loads prom-client or HTTP.
import type { InstanceStatus } from '../protocol/admin.js';
import type { Observer } from '../observe/source.js';
import { parseMetricsAddress } from '../observe/address.js';
import type { EventLog } from './events.js';

export interface Observation {
  observer: Observer;
  close(): Promise<void>;
}

/**
 * Starts the endpoint and feeds it every event. A fresh start that cannot bind fails (the
 * operator asked for it); a successor that cannot bind says so and keeps supervising: a
 * busy metrics port must never cost the servers their watchdog.
 */
export async function startObservation(address: string, events: EventLog, status: () => InstanceStatus, fatal: boolean): Promise<Observation | null> {
  const addr = parseMetricsAddress(address);
  if (!addr) throw new Error(`--metrics ${address}: expected HOST:PORT`);
  try {
    const { startObserver } = await import('../observe/index.js');
    const observer = await startObserver({ host: addr.host, port: addr.port, source: { status } });
    let open = true;
    events.subscribe((e) => open && observer.onEvent(e));
    process.stderr.write(`osps: metrics ${observer.url}metrics  dashboard ${observer.url}\n`);
    return {
      observer,
      close: () => {
        open = false;
        return observer.close();
      },
    };
  } catch (err) {
    if (fatal) throw new Error(`metrics endpoint ${address}: ${(err as Error).message}`);
    process.stderr.write(`osps: metrics endpoint ${address} not served: ${(err as Error).message}\n`);
    return null;
  }
}
