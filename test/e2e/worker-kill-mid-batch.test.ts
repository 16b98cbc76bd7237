// The worker settles a chunk of people in one transaction after writing their entries. A
// `tessera worker` process killed (SIGKILL) halfway through a chunk leaves entries in the
// directory whose jobs are still `running`, unsettled; a new process takes them back at once (the
// dead process is on this host) and runs them again. Nothing is lost and nothing is doubled: every
// person has exactly one entry, with their token, every job ends succeeded (or superseded by a
// run that did), the entries the first process made are recorded as Tessera's (entryUUID), and
// no add is left marked as under way. Real slapd, the compiled command line, SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, it } from 'node:test';
import { Client } from 'ldapts';
import { createRegistry } from '../../src/app/registry.ts';
import { loadConfig } from '../../src/config/config.ts';
import { SYSTEM_ACTOR } from '../../src/core/auth/actor.ts';
import { systemClock } from '../../src/core/clock.ts';
import type { Database } from '../../src/db/database.ts';
import { bundledPlugins } from '../../src/plugins/catalogue.ts';
import type { ServiceTokenTables } from '../../src/plugins/service-tokens/service-token.table.ts';
import { tokenContext } from '../../src/plugins/service-tokens/service-token.test-support.ts';
import { generateServiceToken } from '../../src/plugins/service-tokens/tokens/service-token.service.ts';
import { buildTokenWorld, type TokenWorld } from '../support/reliability.ts';
import { ldapwhoamiBinds, startSlapd, type SlapdInstance } from '../support/slapd.ts';
import { requireCommand } from '../support/system-packages.ts';
import { forEachDialect, openTestDatabase } from '../support/test-app.ts';

const BIN = fileURLToPath(new URL('../../bin/tessera.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PEOPLE = 300;
/** Generous: how long the second process may take to finish everything. */
const FINISH_BOUND_MS = 180_000;

/** `tessera worker` (compiled dist/) with the world's environment; `kill` sends SIGKILL, `stop` SIGTERM. */
function startWorker(env: Record<string, string>) {
  const childEnv: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('TESSERA_') && !k.startsWith('NODE_TEST')) childEnv[k] = v;
  // Long leases: only the take-back of a dead process's jobs (same host) can explain a quick recovery.
  Object.assign(childEnv, { TESSERA_LOG_LEVEL: 'warn', TESSERA_WORKER_LEASE_SECONDS: '600', ...env });
  const child = spawn(process.execPath, [BIN, 'worker'], { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out = (out + c.toString()).slice(-50_000)));
  child.stderr!.on('data', (c: Buffer) => (out = (out + c.toString()).slice(-50_000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  return {
    output: () => out,
    exited,
    async kill() {
      process.removeListener('exit', killOnExit);
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      process.removeListener('exit', killOnExit);
      child.kill('SIGTERM');
      return exited;
    },
  };
}

forEachDialect('Worker killed halfway through a chunk', (dialect) => {
  let slapd: SlapdInstance;
  let database: Database & { cleanup(): Promise<void> };
  let world: TokenWorld;
  let ldap: Client;
  const secrets = new Map<string, string>();
  const workers: Array<ReturnType<typeof startWorker>> = [];

  before(async () => {
    requireCommand('/usr/bin/ldapwhoami', 'ldap-utils');
    slapd = await startSlapd();
    database = await openTestDatabase(dialect);
    world = await buildTokenWorld(database, slapd, { people: PEOPLE, secretKey: randomBytes(32).toString('base64url') });
    // One token each, issued before any worker runs: the first add of each entry carries it.
    const config = loadConfig({ ...world.env, TESSERA_WORKER: 'off' });
    const { ctx } = createRegistry({ config, database, plugins: bundledPlugins(config), clock: systemClock });
    for (const p of world.people) {
      const { secret } = await generateServiceToken(tokenContext({ ctx, db: ctx.db.withTables<ServiceTokenTables>() }), SYSTEM_ACTOR, world.coId, p.personId, { serviceId: world.serviceId, label: 'laptop' });
      secrets.set(p.dn, secret);
    }
    ldap = new Client({ url: slapd.url, timeout: 10_000 });
    await ldap.bind(slapd.rootDn, slapd.rootPassword);
  });
  after(async () => {
    for (const w of workers) await w.kill();
    await ldap?.unbind().catch(() => undefined);
    await database?.cleanup();
    await slapd?.stop();
  });

  // People's entries only: the token target's scheme probe (scheme-probe.ts, run when a worker
  // starts) adds and deletes a short-lived `cn=tessera-scheme-probe-…` entry in the same subtree,
  // and a kill can leave it behind; it is not a person's entry.
  const entries = async () =>
    (await ldap.search(`ou=people,${slapd.suffix}`, { scope: 'one', filter: '(!(cn=tessera-scheme-probe-*))', attributes: ['entryUUID', 'userPassword'] })).searchEntries;
  const jobsByState = async () => {
    const rows = await database.db.selectFrom('provisioning_job').select(['state', 'person_id']).where('co_id', '=', world.coId).execute();
    const out: Record<string, number> = {};
    for (const r of rows) out[r.state] = (out[r.state] ?? 0) + 1;
    return { rows, counts: out };
  };

  it('loses nothing and doubles nothing when the worker is killed between writing a chunk to the directory and settling it', async () => {
    const first = startWorker(world.env);
    workers.push(first);
    // Kill once some entries are written while their chunk is not settled yet (jobs still running).
    let killedWith: { entries: number; running: string[] } | undefined;
    for (const started = Date.now(); !killedWith; await sleep(5)) {
      assert.ok(Date.now() - started < 120_000, `the first worker never got halfway:\n${first.output()}`);
      const written = await entries();
      if (written.length < 20) continue;
      await first.kill();
      const { rows } = await jobsByState();
      killedWith = { entries: written.length, running: rows.filter((r) => r.state === 'running').map((r) => r.person_id) };
    }
    const written = new Set((await entries()).map((e) => String(e.dn).toLowerCase()));
    const writtenButUnsettled = world.people.filter((p) => killedWith!.running.includes(p.personId) && written.has(p.dn.toLowerCase()));
    assert.ok(killedWith.entries < PEOPLE, `killed halfway: ${killedWith.entries} of ${PEOPLE} entries written`);
    assert.ok(writtenButUnsettled.length > 0, 'some people had their entry written while their jobs were still unsettled (the kill came mid-chunk)');

    const second = startWorker(world.env);
    workers.push(second);
    for (const started = Date.now(); ; await sleep(100)) {
      const { counts } = await jobsByState();
      if (!counts.pending && !counts.running) break;
      assert.ok(Date.now() - started < FINISH_BOUND_MS, `jobs still open: ${JSON.stringify(counts)}\n${second.output()}`);
    }
    await second.stop();

    // The job table: every job done, none failed, none left behind.
    const { counts } = await jobsByState();
    assert.deepEqual(Object.keys(counts).filter((s) => s !== 'succeeded' && s !== 'superseded'), [], JSON.stringify(counts));
    const failures = await database.db.selectFrom('history_record').select('comment').where('co_id', '=', world.coId).where('action', '=', 'PROVISIONING_FAILED').execute();
    assert.deepEqual(failures, [], 'no attempt failed');
    const states = await database.db.selectFrom('provisioning_state').select(['target_id', 'person_id', 'status']).where('co_id', '=', world.coId).execute();
    assert.equal(states.length, 2 * PEOPLE, 'one state per (target, person)');
    assert.ok(states.every((s) => s.status === 'provisioned'));

    // The directory: exactly one entry per person, each holding exactly that person's token.
    const final = await entries();
    const expected = new Set(world.people.map((p) => p.dn.toLowerCase()));
    assert.deepEqual(final.filter((e) => !expected.has(String(e.dn).toLowerCase())).map((e) => ({ ...e })), [], 'no entry but the people\'s');
    assert.equal(final.length, PEOPLE);
    assert.deepEqual(final.map((e) => String(e.dn).toLowerCase()).sort(), [...expected].sort());
    for (const e of final) assert.equal((Array.isArray(e.userPassword) ? e.userPassword : [e.userPassword]).length, 1, `${e.dn} holds one token hash`);
    for (const p of [...writtenButUnsettled.slice(0, 10), ...world.people.slice(-5)]) assert.equal(await ldapwhoamiBinds(slapd.url, p.dn, secrets.get(p.dn)!), true, `${p.dn} binds with its token`);

    // Ownership: every entry recorded as Tessera's, under its entryUUID; no add left "under way".
    const owned = await database.db.withTables<{ ldap_owned_entry: { entry_uuid: string; co_id: string } }>().selectFrom('ldap_owned_entry').select('entry_uuid').where('co_id', '=', world.coId).execute();
    assert.deepEqual(owned.map((o) => o.entry_uuid).sort(), final.map((e) => String(e.entryUUID)).sort());
    const pendingAdds = await database.db.withTables<{ ldap_entry_claim: { add_pending: number; co_id: string } }>().selectFrom('ldap_entry_claim').select('add_pending').where('co_id', '=', world.coId).where('add_pending', '=', 1).execute();
    assert.equal(pendingAdds.length, 0);
  });
});
