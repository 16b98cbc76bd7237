// deploy/tessera.service passes `systemd-analyze verify` (no running systemd needed). The unit names
// /usr/bin/node and /opt/tessera, where docs/operations.md installs them; here they become this
// machine's node and this checkout, so that verify can check that ExecStart is executable.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, it } from 'node:test';
import { promisify } from 'node:util';
import { requireCommand } from '../support/system-packages.ts';

const execFileAsync = promisify(execFile);
const SYSTEMD_ANALYZE = '/usr/bin/systemd-analyze';
const REPO = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');
const UNIT = readFileSync(join(REPO, 'deploy', 'tessera.service'), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'tessera-unit-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `systemd-analyze verify` on the unit text; its exit code and what it said about this unit. */
async function verify(text: string): Promise<{ code: number; about: string[] }> {
  requireCommand(SYSTEMD_ANALYZE, 'systemd');
  const file = join(dir, 'tessera.service');
  writeFileSync(file, text);
  let code = 0;
  let stderr = '';
  try {
    ({ stderr } = await execFileAsync(SYSTEMD_ANALYZE, ['verify', '--man=no', file], { encoding: 'utf8' }));
  } catch (error) {
    code = typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : -1;
    stderr = (error as { stderr?: string }).stderr ?? String(error);
    if (/Failed to (initialize|connect)|System has not been booted/i.test(stderr)) {
      assert.fail(`systemd-analyze verify cannot run here: ${stderr}`);
    }
  }
  // verify loads the system's units too; only lines about this unit count.
  return { code, about: stderr.split('\n').filter((l) => l.includes('tessera.service')) };
}

const localized = (text: string) => text.replaceAll('/usr/bin/node', process.execPath).replaceAll('/opt/tessera', REPO);

it('deploy/tessera.service passes systemd-analyze verify', async () => {
  const result = await verify(localized(UNIT));
  assert.deepEqual(result, { code: 0, about: [] });
});

it('runs tessera serve as its own user, stops with SIGTERM within systemd’s timeout, and keeps its state in /var/lib/tessera', () => {
  const setting = (name: string) => [...UNIT.matchAll(new RegExp(`^${name}=(.*)$`, 'gm'))].map((m) => m[1]);
  assert.deepEqual(setting('ExecStart'), ['/usr/bin/node /opt/tessera/bin/tessera.js serve']);
  assert.deepEqual(setting('User'), ['tessera']);
  assert.deepEqual(setting('KillSignal'), ['SIGTERM']);
  assert.deepEqual(setting('TimeoutStopSec'), ['30'], 'above the 25 s tessera serve drains for');
  assert.deepEqual(setting('StateDirectory'), ['tessera']);
  assert.ok(setting('Environment').includes('TESSERA_SECRET_KEY_FILE=/var/lib/tessera/secret.key'));
  assert.deepEqual(setting('ProtectSystem'), ['strict']);
});

it('the check catches a broken unit (a missing program, an unknown setting)', async () => {
  const missing = await verify(localized(UNIT).replace(process.execPath, '/nonexistent/node'));
  assert.notEqual(missing.code, 0);
  assert.match(missing.about.join('\n'), /\/nonexistent\/node/);
  const typo = await verify(localized(UNIT).replace('ProtectSystem=strict', 'ProtectSystem=strictly'));
  assert.match(typo.about.join('\n'), /Failed to parse protect system value, ignoring: strictly/, 'a warning: the first test wants none');
});
