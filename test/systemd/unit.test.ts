import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { installInstructions } from '../../dist/cli/systemd-unit-command.js';
import { quoteArg, renderUnit } from '../../dist/systemd/unit.js';

type Unit = Map<string, Map<string, string[]>>;

/** Sections → keys → values (a key may repeat), as systemd reads a unit file. */
function parseUnit(text: string): Unit {
  const unit: Unit = new Map();
  let section: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = new Map();
      unit.set(header[1] as string, section);
      continue;
    }
    const eq = line.indexOf('=');
    expect(section, `key outside a section: ${line}`).toBeDefined();
    expect(eq, `not KEY=VALUE: ${line}`).toBeGreaterThan(0);
    const key = line.slice(0, eq);
    section!.set(key, [...(section!.get(key) ?? []), line.slice(eq + 1)]);
  }
  return unit;
}

function one(unit: Unit, section: string, key: string): string | undefined {
  const values = unit.get(section)?.get(key);
  expect(values?.length ?? 1, `${key} appears once`).toBe(1);
  return values?.[0];
}

const NODE = '/usr/bin/node';
const LAUNCHER = '/opt/osps/launcher.js';

describe('renderUnit', () => {
  const unit = parseUnit(renderUnit({ name: 'unit-web', user: 'osps', node: NODE, launcher: LAUNCHER, args: ['--endpoint', 'tcp://127.0.0.1:7000'] }));
  const svc = (key: string): string | undefined => one(unit, 'Service', key);

  it('has the three sections and a description naming the instance', () => {
    expect([...unit.keys()]).toEqual(['Unit', 'Service', 'Install']);
    expect(one(unit, 'Unit', 'Description')).toContain('unit-web');
    expect(one(unit, 'Install', 'WantedBy')).toBe('multi-user.target');
  });

  it('is Type=notify with the main PID the only sender and a keep-alive deadline', () => {
    expect(svc('Type')).toBe('notify');
    expect(svc('NotifyAccess')).toBe('main');
    expect(svc('WatchdogSec')).toBe('10s');
    expect(svc('Restart')).toBe('on-failure');
    expect(svc('RestartPreventExitStatus')).toBe('2 3');
  });

  it('starts the launcher with the runtime and data dirs systemd makes, then the extra flags', () => {
    expect(svc('ExecStart')).toBe(
      `${NODE} ${LAUNCHER} start --name unit-web --runtime-dir /run/osps/unit-web --data-dir /var/lib/osps/unit-web --endpoint tcp://127.0.0.1:7000`,
    );
    expect(svc('RuntimeDirectory')).toBe('osps/unit-web');
    expect(svc('StateDirectory')).toBe('osps/unit-web');
    expect(svc('RuntimeDirectoryMode')).toBe('0700');
    expect(svc('StateDirectoryMode')).toBe('0700');
  });

  it('stops through `osps stop` only while the launcher lives, and keeps the data plane on a restart', () => {
    const stop = svc('ExecStop') as string;
    expect(stop).toContain('[ -z "$$MAINPID" ] ||');
    expect(stop).toContain('stop --name unit-web --runtime-dir /run/osps/unit-web');
    expect(stop.endsWith(` ${NODE} ${LAUNCHER}`)).toBe(true);
    expect(svc('KillMode')).toBe('process');
    expect(svc('RuntimeDirectoryPreserve')).toBe('restart');
    expect(svc('RemoveIPC')).toBe('no');
  });

  it('hardens a system unit without hiding what the instance and its operator need', () => {
    expect(svc('User')).toBe('osps');
    expect(svc('NoNewPrivileges')).toBe('yes');
    expect(svc('PrivateTmp')).toBe('yes');
    expect(svc('ProtectSystem')).toBe('strict');
    expect(svc('ReadWritePaths')).toBe('/run/osps/unit-web /var/lib/osps/unit-web');
    expect(svc('ProtectHome')).toBe('yes');
    expect(svc('RestrictAddressFamilies')).toBe('AF_UNIX AF_INET AF_INET6 AF_NETLINK');
    expect(svc('LimitNOFILE')).toBe('65536');
    expect(svc('UMask')).toBe('0077');
    expect(unit.get('Service')?.has('PrivateDevices')).toBe(false); // /dev/shm stays shared
    expect(unit.get('Service')?.has('MemoryDenyWriteExecute')).toBe(false); // V8's JIT
  });

  it('keeps a checkout under /home readable', () => {
    const u = parseUnit(renderUnit({ name: 'unit-home', node: NODE, launcher: '/home/dev/osps/launcher.js' }));
    expect(one(u, 'Service', 'ProtectHome')).toBe('read-only');
    expect(u.get('Service')?.has('User')).toBe(false);
  });

  it('renders a user unit with specifiers and without the sandboxing a user manager cannot set up', () => {
    const u = parseUnit(renderUnit({ name: 'unit-u', scope: 'user', node: NODE, launcher: LAUNCHER, user: 'ignored' }));
    expect(one(u, 'Service', 'ExecStart')).toContain('--runtime-dir %t/osps/unit-u --data-dir %S/osps/unit-u');
    expect(one(u, 'Service', 'KillMode')).toBe('process');
    expect(u.get('Service')?.has('User')).toBe(false);
    expect(u.get('Service')?.has('ProtectSystem')).toBe(false);
    expect(one(u, 'Install', 'WantedBy')).toBe('default.target');
  });

  it('quotes paths and escapes specifiers and $ the way systemd reads them', () => {
    expect(quoteArg('/opt/my app/launcher.js')).toBe('"/opt/my app/launcher.js"');
    expect(quoteArg('/opt/100%/x')).toBe('/opt/100%%/x');
    expect(quoteArg('a$b')).toBe('a$$b');
    expect(quoteArg('say "hi"')).toBe('"say \\"hi\\""');
  });

  it('refuses a bad instance name, and start flags the unit sets itself', () => {
    expect(() => renderUnit({ name: '../etc' })).toThrow(/invalid instance name/);
    for (const flag of ['--runtime-dir', '--data-dir=/srv', '--detach', '-n']) {
      expect(() => renderUnit({ name: 'unit-x', args: [flag, 'x'] })).toThrow(/set by the unit itself/);
    }
  });

  it('passes systemd-analyze verify where systemd is installed', (ctx) => {
    const analyze = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find((p) => fs.existsSync(p));
    if (!analyze) return ctx.skip();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osps-unit-'));
    try {
      const file = path.join(dir, 'osps-unit-verify.service');
      // The real node and launcher: verify checks that ExecStart's program exists.
      fs.writeFileSync(file, renderUnit({ name: 'unit-verify', args: ['--endpoint', 'tcp://127.0.0.1:7000'] }));
      const out = execFileSync(analyze, ['verify', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      expect(out.trim()).toBe('');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('prints the three install commands and where the CLI finds the instance', () => {
    const text = installInstructions({ name: 'unit-web', user: 'osps' }, LAUNCHER);
    const commands = text.split('\n').filter((l) => !l.startsWith('#'));
    expect(commands).toHaveLength(3);
    expect(commands[0]).toMatch(/systemd-unit --name unit-web --user osps \| sudo tee \/etc\/systemd\/system\/osps-unit-web\.service$/);
    expect(commands[1]).toBe('sudo systemctl daemon-reload');
    expect(commands[2]).toBe('sudo systemctl enable --now osps-unit-web.service');
    expect(text).toContain('sudo -u osps');
    expect(text).toContain('status --name unit-web --runtime-dir /run/osps/unit-web');
  });
});
