import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { OspsError } from '../errors.js';
import { runtimePaths } from '../runtime/paths.js';

/** What an osps instance under systemd looks like; every field but name has a default. */
export interface UnitOptions {
  name: string;
  /** system: /etc/systemd/system, paths under /run and /var/lib; user: `systemctl --user`, %t and %S. */
  scope?: 'system' | 'user';
  /** User= of a system unit (omitted: root). */
  user?: string;
  node?: string;
  launcher?: string;
  /** Further `start` flags, e.g. ['--endpoint', 'tcp://127.0.0.1:7000']. */
  args?: string[];
  /** Keep-alive deadline in seconds; the launcher pings at half of it. */
  watchdogSec?: number;
  limitNofile?: number;
}

export const DEFAULT_WATCHDOG_SEC = 10;
const DEFAULT_LIMIT_NOFILE = 65536;
// Exit 2 is a usage/config error and 3 is "gave up" (restart intensity spent): restarting
// either would only repeat it, and the second would undo invariant 6.
const NO_RESTART_EXIT = '2 3';
// The unit owns these: the dirs are systemd's, and a detached launcher is not the main PID.
const OWNED_FLAGS = /^(-n|--name|--runtime-dir|--data-dir|-d|--detach)(=|$)/;

export const LAUNCHER_JS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'launcher.js');

/** The directories systemd makes for the instance, as the launcher and an operator's CLI name them. */
export function unitDirs(o: Pick<UnitOptions, 'name' | 'scope'>): { runtimeDir: string; dataDir: string } {
  // Per instance (osps/<name>, not osps): systemd removes a RuntimeDirectory when its unit
  // stops, which must never take another instance's FIFOs with it.
  const user = o.scope === 'user';
  return {
    runtimeDir: `${user ? '%t' : '/run'}/osps/${o.name}`,
    dataDir: `${user ? '%S' : '/var/lib'}/osps/${o.name}`,
  };
}

export function unitFileName(name: string): string {
  return `osps-${name}.service`;
}

/** One argument of a command line as systemd splits it: quoted when needed; % and $ are specifiers there. */
export function quoteArg(arg: string, keepSpecifiers = false): string {
  let s = arg.replace(/\$/g, '$$$$');
  if (!keepSpecifiers) s = s.replace(/%/g, '%%');
  if (/^[A-Za-z0-9_@%$+=:,./-]+$/.test(s)) return s;
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function underHome(p: string): boolean {
  return /^\/(home|root|run\/user)(\/|$)/.test(p);
}

export function renderUnit(opts: UnitOptions): string {
  const o = { scope: 'system' as const, node: process.execPath, launcher: LAUNCHER_JS, args: [], watchdogSec: DEFAULT_WATCHDOG_SEC, limitNofile: DEFAULT_LIMIT_NOFILE, ...opts };
  const owned = o.args.find((a) => OWNED_FLAGS.test(a));
  if (owned !== undefined) throw new OspsError('USAGE', `${owned} is set by the unit itself; leave it out of the start flags`);
  const { runtimeDir, dataDir } = unitDirs(o);
  // Refuses a bad name or a socket path over the unix limit now, not at the first start.
  runtimePaths(o.name, runtimeDir.replace('%t', '/run/user/00000'));
  const node = quoteArg(path.resolve(o.node));
  const launcher = quoteArg(path.resolve(o.launcher));
  const where = `--name ${o.name} --runtime-dir ${runtimeDir}`;
  const start = [node, launcher, 'start', where, '--data-dir', dataDir, ...o.args.map((a) => quoteArg(a))].join(' ');
  const system = o.scope === 'system';
  const lines = [
    '[Unit]',
    `Description=osps instance ${o.name} (launcher, watchdog, primary and hot standby)`,
    'After=network.target',
    'StartLimitIntervalSec=60',
    'StartLimitBurst=5',
    '',
    '[Service]',
    // The launcher sends READY=1 once the primary answers, WATCHDOG=1 from its own timer.
    'Type=notify',
    'NotifyAccess=main',
    `ExecStart=${start}`,
    '# ExecStop also runs after the launcher died on its own; $MAINPID is then unset and the',
    '# data plane the next launcher adopts must keep running.',
    `ExecStop=/bin/sh -c '[ -z "$$MAINPID" ] || exec "$$0" "$$1" stop ${where}' ${node} ${launcher}`,
    `WatchdogSec=${o.watchdogSec}s`,
    'Restart=on-failure',
    'RestartSec=1s',
    `RestartPreventExitStatus=${NO_RESTART_EXIT}`,
    'TimeoutStopSec=30s',
    '# Only the launcher is killed on a restart (crash, missed keep-alive): the watchdog and the',
    '# servers keep serving and the next launcher adopts them; control-group or mixed would',
    '# SIGKILL the data plane for a control-plane fault. A clean stop goes through ExecStop.',
    'KillMode=process',
    ...(system && o.user ? [`User=${o.user}`] : []),
    `RuntimeDirectory=osps/${o.name}`,
    'RuntimeDirectoryMode=0700',
    '# restart, not yes: FIFOs, sockets and state.json stay for the adopting watchdog across a',
    '# restart and go on stop, so nothing of the instance outlives it.',
    'RuntimeDirectoryPreserve=restart',
    `StateDirectory=osps/${o.name}`,
    'StateDirectoryMode=0700',
    // The shm ring must outlive a launcher restart; osps reclaims its own IPC objects.
    'RemoveIPC=no',
    'UMask=0077',
    `LimitNOFILE=${o.limitNofile}`,
    ...(system ? hardening(o.node, o.launcher, runtimeDir, dataDir) : ['NoNewPrivileges=yes']),
    '',
    '[Install]',
    `WantedBy=${system ? 'multi-user.target' : 'default.target'}`,
    '',
  ];
  return lines.join('\n');
}

/** Sandboxing for a system unit (a user manager cannot set up most of it without user namespaces). */
function hardening(node: string, launcher: string, runtimeDir: string, dataDir: string): string[] {
  return [
    'NoNewPrivileges=yes',
    // A private /tmp: hence --runtime-dir under /run, where the operator's CLI finds it too.
    // POSIX shm lives in /dev/shm, which stays shared (no PrivateDevices), so `osps cleanup`
    // outside the unit still sees the ring.
    'PrivateTmp=yes',
    'ProtectSystem=strict',
    `ReadWritePaths=${runtimeDir} ${dataDir}`,
    // A node or checkout under /home must stay readable.
    `ProtectHome=${underHome(node) || underHome(launcher) ? 'read-only' : 'yes'}`,
    'ProtectKernelTunables=yes',
    'ProtectKernelModules=yes',
    'ProtectControlGroups=yes',
    'ProtectClock=yes',
    'ProtectHostname=yes',
    'RestrictNamespaces=yes',
    'RestrictRealtime=yes',
    'RestrictSUIDSGID=yes',
    'LockPersonality=yes',
    'SystemCallArchitectures=native',
    // AF_NETLINK: libuv and zeromq list interfaces through getifaddrs. No MemoryDenyWriteExecute:
    // V8's JIT needs writable code pages.
    'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK',
  ];
}
