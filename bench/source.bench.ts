// npm run bench:source -- [--people 100000] [--db sqlite,postgres] [--no-write]
//
// A no-change run of a COmanage SQL source: a SqlProvisioner target (v4 layout, on PostgreSQL) with
// N people — a name, two identifiers (uid, eppn), an email address and two memberships each —
// whose people and groups Tessera already holds, exactly as a run brought them in. The run reads
// every table, compares, and must find nothing to do; the figure is the time of that full run
// (the nightly one) and of an incremental run, on Tessera's SQLite and PostgreSQL.
//
// Tessera's side is loaded with bulk inserts of the rows a run writes (the loading is not what is
// measured); the run then checks that it is so: every person, group and membership must come out
// unchanged, or the benchmark fails.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sql, type Kysely } from 'kysely';
import { SYSTEM_ACTOR } from '../src/core/auth/actor.ts';
import { identifierKey } from '../src/core/text.ts';
import { newId } from '../src/db/ids.ts';
import type { CoreDatabase } from '../src/db/core-tables.ts';
import { addSource, runSource } from '../src/core/sources/source.service.ts';
import { createDatabase, startPostgres } from '../test/support/postgres.ts';
import { createSpTables, insertSp, openComanage, spTime } from '../test/support/comanage-sp.ts';
import { benchSecretKey, createBenchCo, openBenchRuntime } from './lib/fixtures.ts';
import { machineInfo, machineMarkdown } from './lib/machine.ts';
import { loadAverage } from './lib/proc.ts';
import { writeSection } from './lib/report.ts';

const { values: flags } = parseArgs({
  options: {
    people: { type: 'string', default: '100000' },
    db: { type: 'string', default: 'sqlite,postgres' },
    'no-write': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (flags.help) {
  process.stdout.write('Usage: npm run bench:source -- [--people 100000] [--db sqlite,postgres] [--no-write]\n');
  process.exit(0);
}
const N = Number(flags.people);
if (!Number.isInteger(N) || N < 1) throw new Error('--people must be a whole number ≥ 1');
const DBS = flags.db!.split(',').map((s) => s.trim()) as Array<'sqlite' | 'postgres'>;
const GROUPS = 50;
const log = (line: string) => process.stderr.write(`${line}\n`);
const groupsOf = (i: number) => [i % GROUPS, ((i % GROUPS) + GROUPS / 2) % GROUPS];

async function chunked<T>(items: T[], size: number, work: (chunk: T[]) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await work(items.slice(i, i + size));
}

/** The COmanage side: N people in a SqlProvisioner v4 target. */
async function seedComanage(url: string): Promise<void> {
  const conn = await openComanage(url);
  try {
    await createSpTables(conn, 'v4');
    const now = new Date();
    const at = spTime(now, -1);
    const s = { created: at, modified: at };
    // Rows changed over the past days, one second apart, as in a registry that grew over time.
    const stamp = (i: number) => ({ created: at, modified: spTime(new Date(now.getTime() - (N - i + 10) * 1000)) });
    const ids = Array.from({ length: N }, (_, i) => i + 1);
    await insertSp(conn.db, 'co_groups', Array.from({ length: GROUPS }, (_, g) => ({ id: g + 1, cou_id: null, name: `Group ${g}`, description: '', open: false, status: 'A', group_type: 'S', auto: false, ...s })));
    await chunked(ids, 1000, async (chunk) => {
      await insertSp(conn.db, 'co_people', chunk.map((i) => ({ id: i, status: 'A', ...stamp(i) })));
      await insertSp(conn.db, 'names', chunk.map((i) => ({ id: i, co_person_id: i, given: `Given${i}`, family: `Família${i}`, type: 'official', primary_name: true, ...stamp(i) })));
      await insertSp(conn.db, 'identifiers', chunk.flatMap((i) => [
        { id: 2 * i, co_person_id: i, identifier: `user${i}`, type: 'uid', login: true, status: 'A', ...stamp(i) },
        { id: 2 * i + 1, co_person_id: i, identifier: `user${i}@example.org`, type: 'eppn', login: false, status: 'A', ...stamp(i) },
      ]));
      await insertSp(conn.db, 'email_addresses', chunk.map((i) => ({ id: i, co_person_id: i, mail: `user${i}@example.org`, type: 'official', verified: true, ...stamp(i) })));
      await insertSp(conn.db, 'co_group_members', chunk.flatMap((i) => groupsOf(i).map((g, k) => ({ id: 2 * i + k, co_group_id: g + 1, co_person_id: i, member: true, owner: false, valid_from: null, valid_through: null, ...stamp(i) }))));
    });
  } finally {
    await conn.close();
  }
}

/** Tessera's side: the rows a run of the source writes, bulk-inserted. */
async function seedTessera(db: Kysely<CoreDatabase>, coId: string, sourceId: string): Promise<void> {
  const now = new Date().toISOString();
  const own = { source_id: sourceId };
  const groupIds = Array.from({ length: GROUPS }, () => newId());
  await db.insertInto('co_group').values(groupIds.map((id, g) => ({ id, co_id: coId, name: `Group ${g}`, description: '', status: 'active' as const, group_type: 'standard' as const, created_at: now, ...own, external_id: String(g + 1) }))).execute();
  const ids = Array.from({ length: N }, (_, i) => i + 1);
  await chunked(ids, 500, async (chunk) => {
    const pids = chunk.map(() => newId());
    await db.insertInto('co_person').values(chunk.map((i, k) => ({ id: pids[k]!, co_id: coId, status: 'active' as const, created_at: now, updated_at: now, ...own, external_id: String(i) }))).execute();
    await db.insertInto('name').values(chunk.map((i, k) => ({ id: newId(), co_id: coId, person_id: pids[k]!, given: `Given${i}`, middle: null, family: `Família${i}`, suffix: null, type: 'official', primary_name: 1, ...own, external_id: null }))).execute();
    await db.insertInto('identifier').values(chunk.flatMap((i, k) => [
      { id: newId(), co_id: coId, person_id: pids[k]!, identifier: `user${i}`, type: 'uid', match_key: identifierKey('uid', `user${i}`), login: 1, status: 'active' as const, created_at: now, ...own, external_id: null },
      { id: newId(), co_id: coId, person_id: pids[k]!, identifier: `user${i}@example.org`, type: 'eppn', match_key: identifierKey('eppn', `user${i}@example.org`), login: 0, status: 'active' as const, created_at: now, ...own, external_id: null },
    ])).execute();
    await db.insertInto('email_address').values(chunk.map((i, k) => ({ id: newId(), co_id: coId, person_id: pids[k]!, mail: `user${i}@example.org`, type: 'official', verified: 1, ...own, external_id: null }))).execute();
    await db.insertInto('co_group_member').values(chunk.flatMap((i, k) => groupsOf(i).map((g) => ({ id: newId(), co_id: coId, group_id: groupIds[g]!, person_id: pids[k]!, member: 1, owner: 0, valid_from: null, valid_through: null, created_at: now, ...own, external_id: String(i) })))).execute();
  });
}

interface Figure {
  db: string;
  fullS: number;
  phases: string;
  incrementalS: number;
  loadBefore: string;
  loadAfter: string;
}

async function measure(dialect: 'sqlite' | 'postgres', comanageUrl: string, pgUrl: string): Promise<Figure> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-source-'));
  const url = dialect === 'sqlite' ? join(dir, 'bench.sqlite') : await createDatabase(pgUrl);
  const runtime = await openBenchRuntime(url, benchSecretKey(), { loading: true });
  try {
    const ctx = runtime.ctx;
    const co = await createBenchCo(ctx);
    const source = await addSource(ctx, SYSTEM_ACTOR, co.id, { kind: 'comanage-sql', name: 'registry', settings: { databaseUrl: comanageUrl } });
    let t0 = Date.now();
    await seedTessera(runtime.database.db, co.id, source.id);
    // Fresh statistics, as autovacuum would have them on a database that grew over time.
    if (dialect === 'postgres') await sql`analyze`.execute(runtime.database.db);
    log(`${dialect}: Tessera loaded with ${N} people in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const loadBefore = loadAverage();
    const marks: Array<[string, number]> = [];
    t0 = Date.now();
    const full = await runSource(ctx, SYSTEM_ACTOR, co.id, source.id, { full: true, onProgress: async (phase) => void (marks.at(-1)?.[0] !== phase && marks.push([phase, Date.now()])) });
    const fullS = (Date.now() - t0) / 1000;
    const c = full.counts;
    const changes = c.people.added + c.people.changed + c.people.suspended + c.groups.added + c.groups.changed + c.groups.removed + c.memberships.added + c.memberships.changed + c.memberships.removed + c.skipped;
    if (changes !== 0 || c.people.unchanged !== N || c.memberships.unchanged !== 2 * N) throw new Error(`the no-change run found changes: ${JSON.stringify(c)}`);
    const phases = marks.map(([phase, at], k) => `${phase} ${(((marks[k + 1]?.[1] ?? t0 + fullS * 1000) - at) / 1000).toFixed(1)} s`).join(', ');
    t0 = Date.now();
    const inc = await runSource(ctx, SYSTEM_ACTOR, co.id, source.id);
    const incrementalS = (Date.now() - t0) / 1000;
    if (inc.counts.mode !== 'incremental' || inc.counts.people.changed + inc.counts.people.added !== 0) throw new Error(`the incremental run was not a no-change incremental run: ${JSON.stringify(inc.counts)}`);
    const figure = { db: dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL', fullS, phases, incrementalS, loadBefore, loadAfter: loadAverage() };
    log(`${dialect}: full no-change run ${fullS.toFixed(1)} s (${phases}); incremental ${incrementalS.toFixed(2)} s; load ${figure.loadBefore} → ${figure.loadAfter}`);
    return figure;
  } finally {
    await runtime.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const pg = await startPostgres();
try {
  const comanageUrl = await createDatabase(pg.url);
  const t0 = Date.now();
  log(`COmanage target: loading ${N} people…`);
  await seedComanage(comanageUrl);
  log(`COmanage target loaded in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const figures: Figure[] = [];
  for (const db of DBS) figures.push(await measure(db, comanageUrl, pg.url));
  const md = [
    '## `npm run bench:source`: a no-change run of a COmanage SQL source',
    '',
    `A COmanage Registry SqlProvisioner target (layout v4, on PostgreSQL) with ${N.toLocaleString('en')} people, each with a name, two identifiers (uid, eppn), an email address and two memberships (of ${GROUPS} groups), all already in Tessera as a run brought them in. "Full" is \`tessera source run NAME --full\` (the nightly reconciliation): read every table, compare, write nothing — the script fails if anything came out changed. "Incremental" is a run with nothing modified since the last one. Goal: a no-change run under 15 s. The machine is shared; the load average (1, 5, 15 min) is given before and after each run.`,
    '',
    '| Tessera database | Full no-change run | Phases | Incremental no-change run | Load before → after |',
    '|---|---|---|---|---|',
    ...figures.map((f) => `| ${f.db} | ${f.fullS.toFixed(1)} s | ${f.phases} | ${f.incrementalS.toFixed(2)} s | ${f.loadBefore} → ${f.loadAfter} |`),
    '',
    machineMarkdown(machineInfo({ postgres: true })),
  ].join('\n');
  process.stdout.write(`${md}\n`);
  if (!flags['no-write']) writeSection('source', md);
} finally {
  await pg.stop();
}
