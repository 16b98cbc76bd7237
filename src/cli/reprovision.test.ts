import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { addRecordingTarget, createRecordingPlugin, RECORDING_PLUGIN_ID, RECORDING_TYPE, recordingConfig } from '../../test/support/recording-provisioner.ts';
import { buildCo, buildPerson, testConfig } from '../../test/support/test-app.ts';
import { SYSTEM_ACTOR } from '../core/auth/actor.ts';
import { systemClock } from '../core/clock.ts';
import type { Co } from '../core/cos/co.service.ts';
import { createRegistry } from '../app/registry.ts';
import type { RouteContext } from '../core/http/route-context.ts';
import { targetInput } from '../core/provisioning/target.schema.ts';
import { updateTarget } from '../core/provisioning/target.service.ts';
import { openDatabase, type Database } from '../db/database.ts';
import { migrateToLatest, migrationSets } from '../db/migrator.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SECRET_KEY = 'cli-test-secret-key-cli-test-secret-key-0123';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The real command, as an operator runs it: `node bin/tessera.js …` in a child process, configured
 * by environment variables only. The recording provisioner is not bundled, so a preload adds it to
 * the catalogue (test/support/recording-provisioner.preload.mjs); everything else is the shipped CLI.
 */
function tessera(databaseUrl: string, args: string[]): Promise<Run> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('TESSERA_') && !k.startsWith('NODE_TEST')) env[k] = v;
  Object.assign(env, { TESSERA_DATABASE_URL: databaseUrl, TESSERA_SECRET_KEY: SECRET_KEY, TESSERA_PLUGINS: RECORDING_PLUGIN_ID, TESSERA_LOG_LEVEL: 'warn' });
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', './test/support/recording-provisioner.preload.mjs', 'bin/tessera.js', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('tessera reprovision', () => {
  let dir: string;
  let databaseUrl: string;
  let database: Database;
  let ctx: RouteContext;
  let co: Co;
  const people: string[] = [];
  const targets: Record<string, string> = {};

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-cli-'));
    databaseUrl = join(dir, 'tessera.sqlite');
    // The CO, its people and targets are set up through the services, as the web UI would.
    const { plugin } = createRecordingPlugin();
    database = openDatabase(databaseUrl);
    await migrateToLatest(database.db, migrationSets([plugin]));
    ctx = createRegistry({ config: testConfig({ secretKey: SECRET_KEY, databaseUrl, plugins: [plugin.id] }), database, plugins: [plugin], clock: systemClock }).ctx;
    co = await buildCo({ ctx }, 'Radio astronomy');
    for (let i = 0; i < 4; i++) people.push((await buildPerson({ ctx }, co.id)).id);
    targets.directory = (await addRecordingTarget({ ctx }, co.id, { description: 'directory', mode: 'manual', ordinal: 1, config: { bindPassword: 'cli-bind-secret' } })).id;
    targets.tokens = (await addRecordingTarget({ ctx }, co.id, { description: 'tokens', mode: 'manual', ordinal: 2 })).id;
    targets.broken = (await addRecordingTarget({ ctx }, co.id, { description: 'broken', mode: 'manual', ordinal: 3, maxRetries: 0, config: { failWith: 'directory down' } })).id;
    // Ordered before the others and retried for a long time: what an unreachable directory looks like.
    targets.unreachable = (await addRecordingTarget({ ctx }, co.id, { description: 'unreachable', mode: 'disabled', ordinal: 0, retryIntervalSeconds: 3600, maxRetries: 5, config: { failWith: 'connect ECONNREFUSED' } })).id;
  });
  after(async () => {
    await database.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const jobsOf = (targetId: string) => database.db.selectFrom('provisioning_job').select(['state', 'person_id']).where('target_id', '=', targetId).execute();

  it('reprovisions one target for the whole CO, prints the progress up to total/total and exits 0', async () => {
    const run = await tessera(databaseUrl, ['reprovision', '--co', co.id, '--target', targets.directory!]);
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    const lines = run.stdout.trim().split('\n');
    assert.match(lines.at(-2)!, /^\[#{30}\] 4\/4$/, run.stdout);
    assert.equal(lines.at(-1), 'Reprovisioning finished.');
    const jobs = await jobsOf(targets.directory!);
    assert.deepEqual(jobs.map((j) => j.state), ['succeeded', 'succeeded', 'succeeded', 'succeeded']);
    assert.deepEqual(jobs.map((j) => j.person_id).sort(), [...people].sort());
    const states = await database.db.selectFrom('provisioning_state').select(['status', 'target_key', 'person_id']).where('target_id', '=', targets.directory!).execute();
    assert.deepEqual(states.map((s) => s.status), ['provisioned', 'provisioned', 'provisioned', 'provisioned']);
    assert.ok(states.every((s) => s.target_key === `uid=${s.person_id},ou=directory`));
    assert.ok(!run.stdout.includes('cli-bind-secret') && !run.stderr.includes('cli-bind-secret'));
  });

  it('reprovisions one person to every target and exits 1 when jobs failed', async () => {
    const run = await tessera(databaseUrl, ['reprovision', '--co', co.id, '--person', people[0]!]);
    assert.equal(run.code, 1, `${run.stdout}\n${run.stderr}`);
    const lines = run.stdout.trim().split('\n');
    assert.match(lines.at(-2)!, /^\[#{30}\] 3\/3 \(1 failed\)$/, run.stdout);
    assert.equal(lines.at(-1), "1 job(s) failed; see the targets' pages for the errors.");
    assert.deepEqual((await jobsOf(targets.broken!)).map((j) => [j.person_id, j.state]), [[people[0], 'failed']]);
    assert.deepEqual((await jobsOf(targets.tokens!)).map((j) => [j.person_id, j.state]), [[people[0], 'succeeded']]);
  });

  it('stops with exit 1 when what is left waits for a retry, instead of waiting through the back-off', async () => {
    const unreachable = (mode: string) => targetInput.parse({ provisionerType: RECORDING_TYPE, description: 'unreachable', mode, ordinal: 0, retryIntervalSeconds: 3600, maxRetries: 5, config: recordingConfig({ failWith: 'connect ECONNREFUSED' }) });
    await updateTarget(ctx, SYSTEM_ACTOR, co.id, targets.unreachable!, unreachable('manual'));
    const started = Date.now();
    const run = await tessera(databaseUrl, ['reprovision', '--co', co.id, '--person', people[1]!]);
    assert.equal(run.code, 1, `${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, /^4 job\(s\) failed and wait for a retry; the worker of `tessera serve` \(or `tessera worker`\) retries them\.$/m);
    assert.ok(Date.now() - started < 30_000, 'it did not wait for the retries');
    const jobs = await database.db.selectFrom('provisioning_job').select(['state', 'attempts']).where('target_id', '=', targets.unreachable!).execute();
    assert.deepEqual(jobs.map((j) => [j.state, j.attempts]), [['pending', 1]]);
    await updateTarget(ctx, SYSTEM_ACTOR, co.id, targets.unreachable!, unreachable('disabled'));
  });

  it('explains itself with --help and refuses to run without --co or with an unknown CO', async () => {
    const help = await tessera(databaseUrl, ['reprovision', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: tessera reprovision --co CO_ID \[--person PERSON_ID\] \[--target TARGET_ID\]/);
    const missing = await tessera(databaseUrl, ['reprovision']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /reprovision needs --co CO_ID/);
    const unknown = await tessera(databaseUrl, ['reprovision', '--co', '00000000-0000-4000-8000-000000000000']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /No such CO/);
  });
});
