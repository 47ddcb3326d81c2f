// Server process entry: read what the watchdog passed, start the role, wire signals.
import '../runtime/no-inspector.js';
import { resolveConfig, type Config } from '../config.js';
import { logLine } from '../log.js';
import type { Role } from '../protocol/control.js';
import { EXIT } from '../protocol/exit-codes.js';
import { Server } from './server.js';
import { loadCurveSecret } from '../runtime/curve-key.js';
import { loadService } from '../host/load.js';
import { kvService } from '../services/kv/service.js';
import type { ServiceDefinition } from '../host/service.js';

const role = process.env.OSPS_ROLE as Role | undefined;
const token = process.env.OSPS_TOKEN;
const rawCfg = process.env.OSPS_CONFIG;
if ((role !== 'primary' && role !== 'secondary') || !token || !rawCfg) {
  process.stderr.write('osps server: started without OSPS_ROLE/OSPS_TOKEN/OSPS_CONFIG; it is spawned by the watchdog\n');
  process.exit(EXIT.CONFIG);
}
const cfg = resolveConfig(JSON.parse(rawCfg) as Partial<Config>) as Config & { dataDir: string };

// The CLI proved the module loads; it is loaded again here, and refused the same way if it changed since.
let service: ServiceDefinition<unknown>;
try {
  service = cfg.service ? await loadService(cfg.service) : (kvService as ServiceDefinition<unknown>);
} catch (err) {
  process.stderr.write(`osps server: ${(err as Error).message}\n`);
  process.exit(EXIT.CONFIG);
}
// Both roles load the key: a standby binds the endpoint when it is promoted.
let curveSecretKey: string | undefined;
try {
  curveSecretKey = cfg.curveSecretFile === undefined ? undefined : loadCurveSecret(cfg.curveSecretFile);
} catch (err) {
  process.stderr.write(`osps server: ${(err as Error).message}\n`);
  process.exit(EXIT.CONFIG);
}
const server = new Server({ cfg, role, token, service, curveSecretKey });
process.on('SIGTERM', () => void server.stop());
// The watchdog coordinates shutdown; a terminal's Ctrl-C reaches it, not us.
process.on('SIGINT', () => {});
// Failure injection (`osps chaos memory-hog`): grow RSS past the configured ceiling.
const ballast: Buffer[] = [];
process.on('SIGUSR2', () => {
  if (!cfg.faultInjection) return;
  // Enough to cross the configured ceiling from wherever RSS is now (or 256 MiB without one).
  const mb = 1024 * 1024;
  const want = cfg.memoryCeilingBytes > 0 ? cfg.memoryCeilingBytes - process.memoryUsage.rss() + 64 * mb : 256 * mb;
  ballast.push(Buffer.alloc(Math.max(64 * mb, want), 1));
});
process.on('uncaughtException', (err) => {
  logLine(role, 'uncaught-exception', { error: err.stack ?? err.message });
  if (server.isExiting) process.exit(EXIT.INTERNAL);
  void server.exit(EXIT.INTERNAL, err.message);
});
server.start().catch((err: Error) => void server.exit(EXIT.INTERNAL, err.message));
