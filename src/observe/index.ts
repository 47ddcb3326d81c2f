// The watchdog's observation endpoint (`--metrics HOST:PORT`): Prometheus metrics at
// /metrics, a live dashboard at /, its data at /api/status. Loaded with `await import()`
// only when asked for, so a watchdog without it never loads prom-client or an HTTP server.
import { createServer, dashboardPage } from './http-server.js';
import { checkHost, isLoopback, listenWithRetry, LISTEN_RETRY_MS } from './listen.js';
import { ObserverMetrics } from './metrics.js';
import type { Observer, ObserverOptions } from './source.js';
import { statusReply, Timeline } from './status-reply.js';

export { parseMetricsAddress, type MetricsAddress } from './address.js';
export type { Observer, ObserverOptions, ObserverSink, ObserverSource } from './source.js';

/**
 * Starts the endpoint. Counters begin at zero with each watchdog (a scrape sees a counter
 * reset, which rate() handles), except restarts, read from the watchdog's own status.
 */
export async function startObserver(opts: ObserverOptions): Promise<Observer> {
  checkHost(opts.host, opts.allowNonLoopback ?? false);
  const metrics = new ObserverMetrics();
  const timeline = new Timeline(opts.source.status().events);
  const page = dashboardPage();
  let port = opts.port;
  const names = (): Set<string> => new Set([opts.host, 'localhost', '127.0.0.1', '[::1]', `[${opts.host}]`].map((h) => `${h}:${port}`));
  const server = createServer(
    {
      '/': () => ({ type: 'text/html; charset=utf-8', body: page }),
      '/metrics': async () => {
        metrics.refresh(opts.source.status());
        return { type: metrics.registry.contentType, body: await metrics.registry.metrics() };
      },
      '/api/status': () => ({ type: 'application/json', body: JSON.stringify(statusReply(opts.source.status(), timeline, metrics.view)) }),
    },
    (h) => !isLoopback(opts.host) || names().has(h),
  );
  const addr = await listenWithRetry(server, opts.host, opts.port, opts.listenRetryMs ?? LISTEN_RETRY_MS);
  port = addr.port;
  const hostPart = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${hostPart}:${port}/`,
    onEvent: (e) => {
      metrics.onEvent(e);
      timeline.push(e);
    },
    observePingRtt: (role, ms) => metrics.observePingRtt(role, ms),
    observeServerCounters: (role, pid, c) => metrics.observeServerCounters(role, pid, c),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
