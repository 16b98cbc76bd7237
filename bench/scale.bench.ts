// npm run bench:scale -- [--people 1000000] [--db sqlite,postgres] [--samples 200] [--no-write]
//
// A million people in one CO, then the pages and API calls people use, over HTTP, against a real
// `tessera serve` process:
// - seeding: N people (a name, a uid and an eppn, an email, two group memberships, one {SSHA512}
//   token for every tenth) through the repositories' bulk inserts, in batches of one transaction;
// - then, one request at a time, p50/p95/p99 of: CO People (the first page, and searches by name,
//   identifier and email, by prefix and exact), a person's page, their token page, a verification,
//   generating a token (API), and a no-change reprovision of one person (API, until the job is done);
// - the server's RSS (VmRSS after the measurements, VmHWM: its peak) and the database's size.
// Figures go to docs/benchmarks.md, section bench:scale, with N and the load average of each row.
import { readFileSync, statSync, mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { loadConfig } from '../src/config/config.ts';
import { createRegistry } from '../src/app/registry.ts';
import { SYSTEM_ACTOR } from '../src/core/auth/actor.ts';
import { startSession, SESSION_COOKIE } from '../src/core/auth/session.service.ts';
import { createApiUser } from '../src/core/api-users/api-user.service.ts';
import { systemClock } from '../src/core/clock.ts';
import { ADMINS_GROUP_NAME } from '../src/core/cos/co.service.ts';
import { createGroup } from '../src/core/groups/group.service.ts';
import { groupInput } from '../src/core/groups/group.schema.ts';
import { createPerson } from '../src/core/people/person.service.ts';
import { createTarget } from '../src/core/provisioning/target.service.ts';
import { openDatabase } from '../src/db/database.ts';
import { API_COUNTED_UP_TO } from '../src/core/http/api-route.ts';
import { newId } from '../src/db/ids.ts';
import { migrateToLatest, migrationSets } from '../src/db/migrator.ts';
import { bundledPlugins } from '../src/plugins/catalogue.ts';
import { addLdapServer } from '../test/support/ldap-servers.ts';
import { createDatabase, startPostgres } from '../test/support/postgres.ts';
import { startSlapd } from '../test/support/slapd.ts';
import { benchSecretKey, createBenchCo, createTokenService } from './lib/fixtures.ts';
import { machineInfo, machineMarkdown } from './lib/machine.ts';
import { cpuSeconds, loadAverage } from './lib/proc.ts';
import { writeSection } from './lib/report.ts';
import { familyOf, givenOf, hasToken, mailOf, seedBatch, uidOf, type SeededToken } from './lib/scale-seed.ts';
import { startTessera } from './lib/server.ts';
import { ms, percentile } from './lib/stats.ts';

const { values: flags } = parseArgs({
  options: {
    people: { type: 'string', default: process.env.TESSERA_BENCH_PEOPLE ?? '1000000' },
    db: { type: 'string', default: 'sqlite,postgres' },
    samples: { type: 'string', default: '200' },
    batch: { type: 'string', default: '5000' },
    'no-write': { type: 'boolean', default: false },
    'profile-dir': { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (flags.help) {
  console.log(`Usage: npm run bench:scale -- [options]

  --people N     people to seed (default 1000000, or TESSERA_BENCH_PEOPLE)
  --db LIST      sqlite,postgres (default both)
  --samples N    requests per measured case (default 200)
  --batch N      people per seeding transaction (default 5000)
  --no-write     print the figures only; leave docs/benchmarks.md alone
  --profile-dir D  run the server with --cpu-prof, writing its CPU profile into D`);
  process.exit(0);
}
const whole = (name: string, v: string | undefined, min: number) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be a whole number ≥ ${min}`);
  return n;
};
const N = whole('people', flags.people, 1000);
const SAMPLES = whole('samples', flags.samples, 10);
const BATCH = whole('batch', flags.batch, 100);
const DBS = flags.db!.split(',').map((s) => s.trim()) as Array<'sqlite' | 'postgres'>;
for (const d of DBS) if (d !== 'sqlite' && d !== 'postgres') throw new Error(`unknown database ${d}`);
/** People reprovisioned (once unmeasured to create their entries, then measured without a change). */
const REPROVISIONED = Math.min(50, SAMPLES);
const log = (line: string) => process.stdout.write(`${line}\n`);
// The throwaway PostgreSQL cluster goes to disk (not /dev/shm): a million people take gigabytes.
process.env.TESSERA_TEST_TMPDIR ??= tmpdir();

interface CaseResult {
  name: string;
  samples: number[];
  /** CPU time of the server process per request, in ms (user + system, from /proc). */
  serverCpuMs: number;
  errors: number;
  load: string;
  detail: string;
}

interface DbResult {
  db: 'sqlite' | 'postgres';
  seedSeconds: number;
  /** CPU time of this (the loading) process while seeding: all of the work on SQLite, the client's share on PostgreSQL. */
  seedCpuSeconds: number;
  seedLoad: string;
  sizeBytes: number;
  sizeDetail: string;
  rssMiB: number;
  peakRssMiB: number;
  /** Of rssMiB: the process's own memory (RssAnon: heaps, SQLite's page cache) and mapped file pages (RssFile: the SQLite memory map, code). */
  anonMiB: number;
  fileMiB: number;
  cases: CaseResult[];
  explain: string[];
}

const rnd = (n: number) => Math.floor(Math.random() * n);
const pick = <T>(items: readonly T[]) => items[rnd(items.length)]!;

function procStatus(pid: number, field: 'VmRSS' | 'VmHWM' | 'RssAnon' | 'RssFile'): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(`${field}:`));
  return line ? Number(/\d+/.exec(line)![0]) / 1024 : Number.NaN;
}

/** The `tessera serve` process whose CPU time each case reads. */
let serverPid = 0;

async function timed(name: string, detail: string, run: (i: number) => Promise<boolean>): Promise<CaseResult> {
  for (let i = 0; i < Math.min(10, SAMPLES); i++) await run(-1 - i); // warm-up, not measured
  const samples: number[] = [];
  let errors = 0;
  const cpuBefore = cpuSeconds(serverPid);
  for (let i = 0; i < SAMPLES; i++) {
    const t0 = performance.now();
    const ok = await run(i);
    samples.push(performance.now() - t0);
    if (!ok) errors++;
  }
  const serverCpuMs = ((cpuSeconds(serverPid) - cpuBefore) * 1000) / SAMPLES;
  const result = { name, samples, serverCpuMs, errors, load: loadAverage(), detail };
  log(`  ${name.padEnd(44)} cpu ${ms(serverCpuMs).padStart(6)}  p50 ${ms(percentile(samples, 50)).padStart(7)}  p95 ${ms(percentile(samples, 95)).padStart(7)}  p99 ${ms(percentile(samples, 99)).padStart(7)} ms  errors ${errors}  load ${result.load}`);
  return result;
}

async function runDb(db: 'sqlite' | 'postgres', secretKey: string): Promise<DbResult> {
  const cleanups: Array<() => Promise<void>> = [];
  try {
    let url: string;
    let sqliteFile = '';
    if (db === 'sqlite') {
      const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-scale-'));
      cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
      url = sqliteFile = join(dir, 'tessera.sqlite');
    } else {
      const pg = await startPostgres();
      cleanups.push(() => pg.stop());
      url = await createDatabase(pg.url, 'tessera_scale');
    }
    const slapd = await startSlapd();
    cleanups.unshift(() => slapd.stop());

    // Set-up and seeding, in this process, through the repositories.
    const config = loadConfig({ TESSERA_DATABASE_URL: url, TESSERA_SECRET_KEY: secretKey, TESSERA_WORKER: 'off' });
    const database = openDatabase(url);
    const plugins = bundledPlugins(config);
    await migrateToLatest(database.db, migrationSets(plugins));
    // Loading only: commits without an fsync each, and a page cache big enough for the indexes.
    if (db === 'sqlite') {
      await sql`PRAGMA synchronous = NORMAL`.execute(database.db);
      await sql`PRAGMA cache_size = -524288`.execute(database.db);
    }
    const { ctx } = createRegistry({ config, database, plugins, clock: systemClock });
    const co = await createBenchCo(ctx);
    const service = await createTokenService(ctx, co.id, { name: 'Mail', scheme: 'SSHA512', maxTokensPerPerson: 100 });
    const staff = await createGroup(ctx, SYSTEM_ACTOR, co.id, groupInput.parse({ name: 'Staff' }));
    const project = await createGroup(ctx, SYSTEM_ACTOR, co.id, groupInput.parse({ name: 'Project' }));
    const admin = await createPerson(ctx, SYSTEM_ACTOR, co.id, {
      status: 'active',
      name: { given: 'Bench', family: 'Admin' },
      identifiers: [{ identifier: 'benchadmin', type: 'uid', login: true }],
      emails: [],
    });
    const admins = await database.db.selectFrom('co_group').select('id').where('co_id', '=', co.id).where('name', '=', ADMINS_GROUP_NAME).executeTakeFirstOrThrow();
    const membersGroup = (await database.db.selectFrom('co_group').select('id').where('co_id', '=', co.id).where('group_type', '=', 'members').executeTakeFirstOrThrow()).id;
    await database.db.insertInto('co_group_member').values({ id: newId(), co_id: co.id, group_id: admins.id, person_id: admin.id, member: 1, owner: 0, valid_from: null, valid_through: null, created_at: new Date().toISOString() }).execute();
    const session = await startSession(database.db, systemClock, { type: 'uid', value: 'benchadmin' }, 'local', 12);
    const apiUser = await createApiUser(ctx, SYSTEM_ACTOR, co.id, { username: `scale-${newId().slice(0, 8)}`, privileged: true, allowedAddresses: '' });

    // Secrets kept for verification: the tokens of the first people with one, spread over N.
    const stride = Math.max(10, Math.floor(N / 2000 / 10) * 10);
    const keep = (i: number) => i % stride === 0;
    const tokens: SeededToken[] = [];
    const seedLoad = loadAverage();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const startMs = Date.parse('2025-01-01T00:00:00Z');
    for (let from = 0; from < N; from += BATCH) {
      const to = Math.min(N, from + BATCH);
      tokens.push(...(await database.db.transaction().execute((trx) => seedBatch(trx, { coId: co.id, serviceId: service.serviceId, groupIds: [staff.id, project.id], startMs }, from, to, keep))));
      if ((to / BATCH) % 20 === 0 || to === N) log(`  ${db}: seeded ${to.toLocaleString('en-US')} people, ${((performance.now() - t0) / 1000).toFixed(0)} s, load ${loadAverage()}`);
    }
    const seedSeconds = (performance.now() - t0) / 1000;
    const seedCpu = process.cpuUsage(cpu0);
    const seedCpuSeconds = (seedCpu.user + seedCpu.system) / 1e6;
    // PostgreSQL's autovacuum gathers planner statistics after a bulk load; do it now rather than
    // at a random moment of the measurements. On SQLite the server gathers them itself when it
    // opens the file (PRAGMA optimize, src/db/database.ts).
    if (db === 'postgres') await sql`ANALYZE`.execute(database.db);

    // A directory target for the reprovisions, added after the load; the jobs its creation wrote are not measured.
    const people = `ou=people,${slapd.suffix}`;
    const ldapTarget = await createTarget(ctx, SYSTEM_ACTOR, co.id, {
      provisionerType: 'ldap',
      description: 'Directory',
      mode: 'automatic',
      ordinal: 10,
      retryIntervalSeconds: 30,
      maxRetries: 3,
      config: { serverId: await addLdapServer(ctx, { url: slapd.url, bindDn: slapd.rootDn, bindPassword: slapd.rootPassword, subtrees: [people], coIds: [co.id] }), baseDn: people },
    });
    await createTarget(ctx, SYSTEM_ACTOR, co.id, {
      provisionerType: 'ldap-service-token',
      description: 'Mail tokens',
      mode: 'automatic',
      ordinal: 20,
      retryIntervalSeconds: 30,
      maxRetries: 3,
      config: { ldapTargetId: ldapTarget.id, serviceId: service.serviceId, attribute: 'userPassword' },
    });
    await database.db.deleteFrom('provisioning_job').execute();
    const explain = await explainSearches(database, co.id);
    // People measured: spread over N, their ids read back by uid.
    const sampleIdx = Array.from({ length: 500 }, (_, k) => Math.floor(((k + 0.5) * N) / 500));
    const idRows = await database.db.selectFrom('identifier').select(['identifier', 'person_id']).where('co_id', '=', co.id).where('type', '=', 'uid').where('identifier', 'in', sampleIdx.map(uidOf)).execute();
    const personOf = new Map(idRows.map((r) => [r.identifier, r.person_id]));
    const samplePeople = sampleIdx.map((i) => ({ i, id: personOf.get(uidOf(i))! }));
    await database.destroy();

    const server = await startTessera({ TESSERA_DATABASE_URL: url, TESSERA_SECRET_KEY: secretKey, TESSERA_LOG_LEVEL: 'warn' }, {
      timeoutMs: 120_000,
      ...(flags['profile-dir'] ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${flags['profile-dir']}`] } : process.env.BENCH_SCALE_NODE_ARGS ? { nodeArgs: process.env.BENCH_SCALE_NODE_ARGS.split(' ') } : {}),
    });
    cleanups.unshift(() => server.stop());
    serverPid = server.pid;
    const cookie = `${SESSION_COOKIE}=${session}`;
    const basic = `Basic ${Buffer.from(`${apiUser.apiUser.username}:${apiUser.key}`).toString('base64')}`;
    const page = async (path: string, expect: RegExp) => {
      const res = await fetch(`${server.url}${path}`, { headers: { cookie } });
      const body = await res.text();
      return res.status === 200 && expect.test(body);
    };
    const api = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${server.url}${path}`, { method, headers: { authorization: basic, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const peoplePath = `/cos/${co.id}/people`;
    const q = (s: string) => `${peoplePath}?q=${encodeURIComponent(s)}`;
    const anyIndex = () => rnd(N);
    const cases: CaseResult[] = [];
    log(`${db}: measuring over HTTP, ${SAMPLES} requests per case, one at a time`);
    cases.push(await timed('Floor: GET /healthz', 'the least a request costs on this machine now', async () => (await fetch(`${server.url}/healthz`)).ok));
    cases.push(await timed('CO People, first page (no search)', 'GET /cos/:co/people', () => page(peoplePath, /Showing 1–25 of more than/)));
    cases.push(await timed('CO People, page 40 (no search)', 'GET /cos/:co/people?page=40', () => page(`${peoplePath}?page=40`, /Showing 976–1000/)));
    cases.push(await timed('Search: name prefix (given name, 3 letters)', 'e.g. "Gra": about N/50 people match', () => page(q(givenOf(anyIndex()).slice(0, 3)), /Showing 1–25 of/)));
    cases.push(await timed('Search: name prefix (family name, 5 letters)', 'e.g. "Bakor": about N/400 match', () => page(q(familyOf(anyIndex()).slice(0, 5)), /Showing 1–/)));
    cases.push(await timed('Search: name exact (given and family)', 'e.g. "Grace Bakori": about N/400,000 match', () => { const i = anyIndex(); return page(q(`${givenOf(i)} ${familyOf(i)}`), new RegExp(familyOf(i))); }));
    cases.push(await timed('Search: identifier prefix (uid, 6 of 8 characters)', 'e.g. "u01234": 100 match', () => page(q(uidOf(anyIndex()).slice(0, 6)), /Showing 1–25 of 100/)));
    cases.push(await timed('Search: identifier exact (uid)', 'e.g. "u0123456": 1 matches', () => { const i = anyIndex(); return page(q(uidOf(i).toUpperCase()), /Showing 1–1 of 1/); }));
    cases.push(await timed('Search: identifier exact (eppn)', 'e.g. "u0123456@example.org"', () => page(q(`${uidOf(anyIndex())}@example.org`), /Showing 1–1 of 1/)));
    cases.push(await timed('Search: email prefix (local part start)', 'e.g. "grace.bakor": about N/400 match', () => { const i = anyIndex(); return page(q(`${givenOf(i).toLowerCase()}.${familyOf(i).toLowerCase()}`), /Showing 1–/); }));
    cases.push(await timed('Search: email exact', 'the whole address', () => { const i = anyIndex(); return page(q(mailOf(i)), /Showing 1–1 of 1/); }));
    cases.push(await timed('Search: email domain', 'e.g. "dept7.example.org": N/50 match', () => page(q(`dept${rnd(50)}.example.org`), /Showing 1–25 of/)));
    cases.push(await timed('Search: no match', 'e.g. "zz0123"', () => page(q(`zz${rnd(10000)}`), /No one matches/)));
    cases.push(await timed('A person’s page', 'GET /cos/:co/people/:id', () => { const p = pick(samplePeople); return page(`${peoplePath}/${p.id}`, new RegExp(uidOf(p.i))); }));
    // The CO's other pages, each of which must not read the whole CO.
    const coPath = `/cos/${co.id}`;
    cases.push(await timed('The CO’s page', 'GET /cos/:co', () => page(coPath, /People/)));
    cases.push(await timed('History, first page', 'GET /cos/:co/history', () => page(`${coPath}/history`, /History/)));
    cases.push(await timed('Service tokens of the CO', `GET /cos/:co/service-tokens (${Math.ceil(N / 10).toLocaleString('en-US')} tokens)`, () => page(`${coPath}/service-tokens`, /Mail/)));
    cases.push(await timed('A CO Service’s page', 'GET /cos/:co/services/:id', () => page(`${coPath}/services/${service.serviceId}`, /Mail/)));
    cases.push(await timed('Provisioning targets', 'GET /cos/:co/provisioning-targets', () => page(`${coPath}/provisioning-targets`, /Directory/)));
    cases.push(await timed('A provisioning target’s page', 'GET /cos/:co/provisioning-targets/:id', () => page(`${coPath}/provisioning-targets/${ldapTarget.id}`, /Directory/)));
    cases.push(await timed('Provisioning failures', 'GET /cos/:co/failures', () => page(`${coPath}/failures`, /ailure/)));
    const groupPath = `/cos/${co.id}/groups/${staff.id}`;
    cases.push(await timed('A group’s page (every person a member)', 'GET /cos/:co/groups/:id: 100 members of N, "more than 1,000"', () => page(groupPath, /Showing 1–100 of more than 1,000/)));
    cases.push(await timed('A group’s page 50', 'GET /cos/:co/groups/:id?page=50', () => page(`${groupPath}?page=50`, /Showing 4901–5000 of more than 1,000/)));
    cases.push(await timed('A group’s memberships (API), page 50', 'GET /api/v1/cos/:co/groups/:id/members?page=50: 100 rows; total counted up to 10,000 ("at least")', async () => {
      const res = await api('GET', `/api/v1/cos/${co.id}/groups/${staff.id}/members?page=50`);
      return res.status === 200 && Array.isArray(res.body.items) && (res.body.items as unknown[]).length === 100 && res.body.total === Math.min(N, API_COUNTED_UP_TO) && res.body.totalIsAtLeast === N > API_COUNTED_UP_TO;
    }));
    cases.push(await timed('The members group’s memberships (API), page 50', 'GET /api/v1/cos/:co/groups/:members/members?page=50: 100 of the CO’s active people; total counted up to 10,000', async () => {
      const res = await api('GET', `/api/v1/cos/${co.id}/groups/${membersGroup}/members?page=50`);
      return res.status === 200 && (res.body.items as unknown[]).length === 100 && res.body.total === Math.min(N + 1, API_COUNTED_UP_TO) && res.body.totalIsAtLeast === N + 1 > API_COUNTED_UP_TO;
    }));
    cases.push(await timed('People (API), page 50', 'GET /api/v1/cos/:co/people?page=50: 25 people; total counted up to 10,000', async () => {
      const res = await api('GET', `/api/v1/cos/${co.id}/people?page=50`);
      return res.status === 200 && (res.body.items as unknown[]).length === 25 && res.body.total === Math.min(N + 1, API_COUNTED_UP_TO) && res.body.totalIsAtLeast === N + 1 > API_COUNTED_UP_TO;
    }));
    cases.push(await timed('The person’s token page', 'GET /cos/:co/people/:id/service-tokens', () => { const p = pick(samplePeople); return page(`${peoplePath}/${p.id}/service-tokens`, /Mail/); }));
    const verifyKey = service.key;
    cases.push(await timed('Verification (API)', 'POST /api/v1/service-tokens/verify, a random seeded token', async () => {
      const t = pick(tokens);
      const res = await fetch(`${server.url}/api/v1/service-tokens/verify`, { method: 'POST', headers: { authorization: `Bearer ${verifyKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ identifier: uidOf(t.index), token: t.secret }) });
      const body = (await res.json()) as { valid?: boolean };
      return res.status === 200 && body.valid === true;
    }));
    let g = 0;
    cases.push(await timed('Generate a token (API)', 'POST /api/v1/cos/:co/people/:id/service-tokens', async () => {
      const p = samplePeople[g++ % samplePeople.length]!;
      const res = await api('POST', `/api/v1/cos/${co.id}/people/${p.id}/service-tokens`, { serviceId: service.serviceId, label: `bench ${g}` });
      return res.status === 201;
    }));
    // Reprovision: once each to write the entries (not measured), then again with nothing changed.
    const reprovision = async (personId: string) => {
      const res = await api('POST', `/api/v1/cos/${co.id}/reprovision`, { personId });
      if (res.status !== 202) return false;
      const batchId = String(res.body.batchId);
      for (let k = 0; k < 5000; k++) {
        const progress = await api('GET', `/api/v1/cos/${co.id}/reprovision/${batchId}`);
        if (progress.body.pending === 0) return progress.body.failed === 0;
        await new Promise((r) => setTimeout(r, 2));
      }
      return false;
    };
    const reprovisioned = samplePeople.slice(0, REPROVISIONED);
    for (const p of reprovisioned) if (!(await reprovision(p.id))) throw new Error(`the first reprovision of ${uidOf(p.i)} failed:\n${server.problems()}`);
    let r = 0;
    cases.push(await timed('No-change reprovision of one person (API)', `POST /api/v1/cos/:co/reprovision {personId} until its jobs are done (polled every 2 ms); ${REPROVISIONED} people, each provisioned before`, () => reprovision(reprovisioned[r++ % reprovisioned.length]!.id)));

    const rssMiB = procStatus(server.pid, 'VmRSS');
    const peakRssMiB = procStatus(server.pid, 'VmHWM');
    const anonMiB = procStatus(server.pid, 'RssAnon');
    const fileMiB = procStatus(server.pid, 'RssFile');
    await server.stop();
    const problems = server.problems().trim();
    if (problems) log(`${db}: the server reported:\n${problems.slice(0, 6000)}`);
    cleanups.shift();

    let sizeBytes: number;
    let sizeDetail: string;
    if (db === 'sqlite') {
      const wal = existsSync(`${sqliteFile}-wal`) ? statSync(`${sqliteFile}-wal`).size : 0;
      sizeBytes = statSync(sqliteFile).size;
      sizeDetail = `file size (WAL after the run: ${(wal / 2 ** 20).toFixed(0)} MiB)`;
    } else {
      const check = openDatabase(url);
      const row = await sql<{ n: string }>`select pg_database_size(current_database())::text as n`.execute(check.db);
      await check.destroy();
      sizeBytes = Number(row.rows[0]!.n);
      sizeDetail = 'pg_database_size';
    }
    log(`${db}: database ${(sizeBytes / 2 ** 20).toFixed(0)} MiB; server RSS ${rssMiB.toFixed(0)} MiB (anonymous ${anonMiB.toFixed(0)}, file-backed ${fileMiB.toFixed(0)}; peak ${peakRssMiB.toFixed(0)} MiB)`);
    return { db, seedSeconds, seedCpuSeconds, seedLoad: `${seedLoad} before, ${loadAverage()} after`, sizeBytes, sizeDetail, rssMiB, peakRssMiB, anonMiB, fileMiB, cases, explain };
  } finally {
    for (const c of cleanups) await c().catch((e) => log(`cleanup: ${String(e)}`));
  }
}

/** The query plans of a People search, as the database states them (EXPLAIN), for the report. */
async function explainSearches(database: ReturnType<typeof openDatabase>, coId: string): Promise<string[]> {
  const lo = 'u012345';
  const plans: string[] = [];
  const queries = [
    ['terms of a search (gathered up to 2,001 people)', sql`select distinct t.person_id from person_search_term t where t.co_id = ${coId} and t.term >= lower(${lo}) and t.term < lower(${lo}) || ${'\u{10FFFF}'} limit 2001`],
    ['a page, no search', sql`select p.* from co_person p where p.co_id = ${coId} order by p.created_at desc, p.id limit 25 offset 0`],
    ['a page of a common term, walking the CO newest first', sql`select p.* from co_person p where p.co_id = ${coId} and exists (select t.person_id from person_search_term t where t.person_id = p.id and t.term >= lower(${'gra'}) and t.term < lower(${'gra'}) || ${'\u{10FFFF}'}) order by p.created_at desc, p.id limit 25 offset 0`],
  ] as const;
  for (const [label, query] of queries) {
    const prefix = database.dialect === 'sqlite' ? sql`explain query plan ` : sql`explain `;
    const res = await sql<Record<string, unknown>>`${prefix}${query}`.execute(database.db);
    const lines = res.rows.map((row) => String(row['detail'] ?? row['QUERY PLAN'] ?? JSON.stringify(row)));
    plans.push(`${label}:\n${lines.map((l) => `    ${l}`).join('\n')}`);
  }
  return plans;
}

/** What every section says about how the figures were made. */
const ABOUT = `Seeded through the repositories' bulk inserts (\`insertPeopleBatch\`, \`insertMemberships\`, \`insertTokens\`, with the rules of the one-at-a-time inserts: identifiers in NFC with their match key, search terms for every name, identifier and email), not HTTP: each person has an official name (50 given names × 8,000 family names), a uid (login) and an eppn, an official email, memberships of two groups, and every tenth an {SSHA512} token of the service (${Math.ceil(N / 10).toLocaleString('en-US')} tokens). Then planner statistics (PostgreSQL: ANALYZE, as autovacuum would; SQLite: the server's own \`PRAGMA optimize\` when it opens the file), an LDAP target and an LDAP service-token target (throwaway slapd), and \`tessera serve\` (one process, log level warn) on the database.

Every request is sent one at a time over HTTP on loopback, ${SAMPLES} per case after 10 unmeasured ones, with random people, names and identifiers spread over all N; latency from request to the whole response body read. **Server CPU** is the CPU time (user + system) of the \`tessera serve\` process over the measured requests of a case, per request: what a request costs, far less distorted than latency when other work shares the two cores (on a loaded machine the latency is mostly waiting for a core: compare with the floor row, a request that does nothing). Web pages as a CO admin with a session cookie; API calls as a privileged API user (Basic). A case counts an error when the answer is not the expected page or JSON. The People page counts up to 1,000 people and then says "more than 1,000". SQLite: a file on disk (WAL; synchronous=FULL in the server). PostgreSQL: the throwaway cluster of the test harness on disk (fsync off).`;

async function main(): Promise<void> {
  const started = Date.now();
  const loadBefore = loadAverage();
  const machine = machineInfo({ postgres: DBS.includes('postgres') });
  const secretKey = benchSecretKey();
  const results: DbResult[] = [];
  log(`bench:scale — ${N.toLocaleString('en-US')} people; ${DBS.join(', ')}`);
  for (const db of DBS) results.push(await runDb(db, secretKey));
  const command = `npm run bench:scale${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  const goal = (v: number) => (v < 50 ? 'yes' : `**no** (${(v / 50).toFixed(1)}× the goal)`);
  // One section per database (bench:scale-sqlite, bench:scale-postgres), so runs of one database
  // at a time, with their own N, keep the other's figures.
  for (const r of results) {
    const label = r.db === 'sqlite' ? 'SQLite' : 'PostgreSQL';
    const rows = r.cases.map((c) => {
      const p95 = percentile(c.samples, 95);
      return `| ${c.name} | ${c.detail} | ${ms(percentile(c.samples, 50))} | ${ms(p95)} | ${ms(percentile(c.samples, 99))} | ${ms(c.serverCpuMs)} | ${c.errors} | ${goal(p95)} | ${c.load} |`;
    });
    const md = `## A million people on ${label} (\`bench:scale\`): N = ${N.toLocaleString('en-US')}

${machineMarkdown(machine)}
| Load average (1, 5, 15 min) | ${loadBefore} at the start, ${loadAverage()} at the end |
| Run time | ${((Date.now() - started) / 1000).toFixed(0)} s |

Command: \`${command}\` — **N = ${N.toLocaleString('en-US')} people** in one CO.

${ABOUT}

| | |
|---|---|
| Seeding | ${r.seedSeconds.toFixed(0)} s: ${Math.round(N / r.seedSeconds).toLocaleString('en-US')} people/s (batches of ${BATCH.toLocaleString('en-US')} people per transaction; load ${r.seedLoad}) |
| Seeding, CPU time of the loading process | ${r.seedCpuSeconds.toFixed(0)} s: ${((r.seedCpuSeconds * 1e6) / N).toFixed(0)} µs per person${r.db === 'sqlite' ? ' (all the work: SQLite runs in the process), so about ' + Math.round((r.seedCpuSeconds * 1_000_000) / N / 60) + ' min of one core for 1,000,000 people' : ' (the client side only; PostgreSQL works in its own processes)'} |
| Database size | ${(r.sizeBytes / 2 ** 20).toFixed(0)} MiB (${r.sizeDetail}) |
| Server RSS | ${r.rssMiB.toFixed(0)} MiB after the measurements (anonymous ${r.anonMiB.toFixed(0)} MiB: heaps and SQLite's page cache; file-backed ${r.fileMiB.toFixed(0)} MiB: the SQLite memory map and code), peak ${r.peakRssMiB.toFixed(0)} MiB (VmRSS, RssAnon, RssFile, VmHWM of \`tessera serve\`); goal < 400 MB: ${r.peakRssMiB * 1.048576 < 400 ? 'yes' : '**no**'} |

| Request | What | p50 ms | p95 ms | p99 ms | Server CPU ms/request | Errors | p95 < 50 ms | Load average (1, 5, 15 min) after |
|---|---|---|---|---|---|---|---|---|
${rows.join('\n')}

Query plans (EXPLAIN${r.db === 'sqlite' ? ' QUERY PLAN' : ''}) of the People search after the load:

\`\`\`
${r.explain.join('\n')}
\`\`\`
`;
    if (!flags['no-write']) {
      writeSection(`scale-${r.db}`, md);
      log(`docs/benchmarks.md: section bench:scale-${r.db} written`);
    } else {
      log(md);
    }
  }
}

main().catch((e) => {
  process.exitCode = 1;
  log(`bench:scale failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
});
