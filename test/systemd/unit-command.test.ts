import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'unit-command.mjs');

function osps(...args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 10_000 });
}

describe('osps systemd-unit', () => {
  it('prints the unit on stdout (ready for tee) and the install steps on stderr', () => {
    const r = osps('systemd-unit', '--name', 'cmd-web', '--user', 'osps', '--watchdog-sec', '20', '--', '--endpoint', 'tcp://127.0.0.1:7000');
    expect(r.status).toBe(0);
    expect(r.stdout.startsWith('[Unit]\n')).toBe(true);
    expect(r.stdout).not.toContain('systemctl');
    const execStart = r.stdout.split('\n').find((l) => l.startsWith('ExecStart='));
    expect(execStart).toMatch(/launcher\.js start --name cmd-web --runtime-dir \/run\/osps\/cmd-web --data-dir \/var\/lib\/osps\/cmd-web --endpoint tcp:\/\/127\.0\.0\.1:7000$/);
    expect(r.stdout).toContain('\nWatchdogSec=20s\n');
    expect(r.stdout).toContain('\nUser=osps\n');
    expect(r.stderr).toContain('systemd-unit --name cmd-web --user osps -- --endpoint tcp://127.0.0.1:7000 | sudo tee /etc/systemd/system/osps-cmd-web.service');
    expect(r.stderr).toContain('sudo systemctl daemon-reload');
    expect(r.stderr).toContain('sudo systemctl enable --now osps-cmd-web.service');
  });

  it('has an example in --help and refuses a bad value with exit 2', () => {
    const help = osps('systemd-unit', '--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Examples:');
    expect(osps('systemd-unit', '--watchdog-sec', '0').status).toBe(2);
    expect(osps('systemd-unit', '--scope', 'global').status).toBe(2);
    const badName = osps('systemd-unit', '--name', '../x');
    expect(badName.status).not.toBe(0);
    expect(badName.stderr).toMatch(/invalid instance name/);
  });
});
