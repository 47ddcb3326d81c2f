// `--metrics HOST:PORT` as the CLI and the watchdog read it. Kept apart from index.ts so
// checking a flag never loads the endpoint itself.

export interface MetricsAddress {
  host: string;
  port: number;
}

/** `127.0.0.1:9464`, `localhost:9464`, `[::1]:9464`; null for anything else. */
export function parseMetricsAddress(s: string): MetricsAddress | null {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(s.trim());
  if (!m) return null;
  const port = Number(m[3]);
  if (port > 65535) return null;
  return { host: (m[1] ?? m[2]) as string, port };
}
