// npm run bench:import -- [--people 100000] [--db sqlite,postgres] [--no-write]
//
// `tessera import comanage` of a large COmanage Registry v4 installation: a COmanage-shaped
// PostgreSQL database (the schema of src/import/comanage/comanage-fixture.test-support.ts, from
// COmanage's schema files) with N CO People, each with a name, two identifiers (uid, eppn), an
// email address and two group memberships, imported into Tessera on SQLite (a temp file) and on
// PostgreSQL (a throwaway cluster of the test harness); then the same import again, which finds
// nothing to change. Timed around importComanage(), the function the command runs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { systemClock } from '../src/core/clock.ts';
import { openDatabase } from '../src/db/database.ts';
import { migrateToLatest, migrationSets } from '../src/db/migrator.ts';
import { importComanage, type CoReport } from '../src/import/comanage/comanage-import.service.ts';
import { openComanageReader } from '../src/import/comanage/comanage-reader.ts';
import { connectComanage, createComanageSchema } from '../src/import/comanage/comanage-fixture.test-support.ts';
import { serviceTokensPlugin } from '../src/plugins/service-tokens/service-tokens.plugin.ts';
import { createDatabase, startPostgres } from '../test/support/postgres.ts';
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
  process.stdout.write('Usage: npm run bench:import -- [--people 100000] [--db sqlite,postgres] [--no-write]\n');
  process.exit(0);
}
const PEOPLE = Number(flags.people);
if (!Number.isInteger(PEOPLE) || PEOPLE < 1) throw new Error('--people must be a whole number ≥ 1');
const DBS = flags.db!.split(',').map((s) => s.trim()) as Array<'sqlite' | 'postgres'>;
const GOAL_SECONDS = 300;

/** Fills the COmanage database with set-based INSERTs (generate_series), as fast as PostgreSQL goes. */
async function seed(url: string): Promise<void> {
  await createComanageSchema(url);
  const cm = await connectComanage(url);
  try {
    const T = `timestamp '2024-01-15 10:00:00'`;
    await cm.query(`insert into cm_cos (id, name, description, status, created, modified) values (1, 'Bench Collaboration', 'bench', 'A', ${T}, ${T})`);
    await cm.query(`insert into cm_co_groups (id, co_id, name, description, status, group_type, open, auto, created, modified, deleted) values
      (1, 1, 'CO:admins', 'admins', 'A', 'A', false, false, ${T}, ${T}, false), (2, 1, 'CO:members:active', 'members', 'A', 'MA', false, true, ${T}, ${T}, false),
      (3, 1, 'observers', 'observers', 'A', 'S', false, false, ${T}, ${T}, false), (4, 1, 'analysts', 'analysts', 'A', 'S', false, false, ${T}, ${T}, false)`);
    await cm.query(`insert into cm_co_people (id, co_id, status, created, modified, revision, deleted) select i, 1, case when i % 10 = 0 then 'GP' else 'A' end, ${T}, ${T}, 0, false from generate_series(1, ?) i`, [PEOPLE]);
    await cm.query(`insert into cm_names (id, co_person_id, given, family, type, primary_name, created, modified, revision, deleted) select i, i, 'Zoë' || i, 'Łukasiewicz-' || i, 'official', true, ${T}, ${T}, 0, false from generate_series(1, ?) i`, [PEOPLE]);
    await cm.query(`insert into cm_identifiers (id, co_person_id, identifier, type, login, status, created, modified, revision, deleted) select 2 * i - 1, i, 'user' || i, 'uid', true, 'A', ${T}, ${T}, 0, false from generate_series(1, ?) i`, [PEOPLE]);
    await cm.query(`insert into cm_identifiers (id, co_person_id, identifier, type, login, status, created, modified, revision, deleted) select 2 * i, i, 'user' || i || '@example.org', 'eppn', false, 'A', ${T}, ${T}, 0, false from generate_series(1, ?) i`, [PEOPLE]);
    await cm.query(`insert into cm_email_addresses (id, co_person_id, mail, type, verified, created, modified, revision, deleted) select i, i, 'user' || i || '@example.org', 'official', true, ${T}, ${T}, 0, false from generate_series(1, ?) i`, [PEOPLE]);
    await cm.query(`insert into cm_co_group_members (id, co_group_id, co_person_id, member, owner, valid_from, valid_through, created, modified, revision, deleted) select 2 * i - 1, 3, i, true, false, null, null, ${T}, ${T}, 0, false from generate_series(1, ?) i`, [PEOPLE]);
    await cm.query(`insert into cm_co_group_members (id, co_group_id, co_person_id, member, owner, valid_from, valid_through, created, modified, revision, deleted) select 2 * i, 4, i, true, false, timestamp '2024-01-01 00:00:00', timestamp '2099-01-01 00:00:00', ${T}, ${T}, 0, false from generate_series(1, ?) i`, [PEOPLE]);
    await cm.query('analyze');
  } finally {
    await cm.close();
  }
}

interface Row {
  db: string;
  importSeconds: number;
  rerunSeconds: number;
  added: number;
  rerunChanges: number;
  rssMiB: number;
}

async function measure(db: 'sqlite' | 'postgres', tesseraUrl: string, sourceUrl: string): Promise<Row> {
  const tessera = openDatabase(tesseraUrl);
  try {
    await migrateToLatest(tessera.db, migrationSets([serviceTokensPlugin()]));
    const once = async (): Promise<{ seconds: number; report: CoReport }> => {
      const reader = await openComanageReader(sourceUrl);
      try {
        const started = performance.now();
        const [report] = await importComanage(tessera.db, systemClock, reader, { coIds: [], tokenScheme: 'ARGON2ID', dryRun: false }, (line) => process.stderr.write(`  ${db}: ${line}\n`));
        if (report!.error) throw new Error(report!.error);
        return { seconds: (performance.now() - started) / 1000, report: report! };
      } finally {
        await reader.close();
      }
    };
    const first = await once();
    const rss = process.memoryUsage().rss / 1024 ** 2;
    const again = await once();
    const sum = (r: CoReport, f: (c: { added: number; changed: number; removed: number }) => number) => Object.values(r.counts).reduce((n, c) => n + f(c), 0);
    const people = Number((await tessera.db.selectFrom('co_person').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    if (people !== PEOPLE) throw new Error(`expected ${PEOPLE} people in Tessera, found ${people}`);
    return { db, importSeconds: first.seconds, rerunSeconds: again.seconds, added: sum(first.report, (c) => c.added), rerunChanges: sum(again.report, (c) => c.added + c.changed + c.removed), rssMiB: rss };
  } finally {
    await tessera.destroy();
  }
}

const started = Date.now();
const machine = machineInfo({ postgres: true });
const loadBefore = loadAverage();
const pg = await startPostgres();
const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-import-'));
const rows: Row[] = [];
try {
  const sourceUrl = await createDatabase(pg.url, 'comanage');
  process.stderr.write(`seeding ${PEOPLE} COmanage people…\n`);
  await seed(sourceUrl);
  for (const db of DBS) rows.push(await measure(db, db === 'sqlite' ? join(dir, 'tessera.sqlite') : await createDatabase(pg.url, 'tessera'), sourceUrl));
} finally {
  await pg.stop();
  rmSync(dir, { recursive: true, force: true });
}
const loadAfter = loadAverage();

const body = `## Migration from COmanage Registry (\`bench:import\`)

${machineMarkdown(machine)}
| Load average (1, 5, 15 min) | ${loadBefore} before, ${loadAfter} after (the machine is shared with other work) |
| Run time | ${Math.round((Date.now() - started) / 1000)} s |

Command: \`npm run bench:import -- --people ${PEOPLE} --db ${DBS.join(',')}\`

Parameters: a COmanage Registry v4 database on PostgreSQL (the \`cm_\` tables as COmanage's schema files define them) with ${PEOPLE.toLocaleString('en-US')} CO People in one CO, each with a name, two identifiers (uid, eppn), an email address and two group memberships (one with a validity window), imported by \`importComanage\` (what \`tessera import comanage\` runs) in one transaction into an empty Tessera database; then the same import again, which finds nothing to change. Objects counted are those of every kind (CO, groups, people, names, identifiers, emails, memberships).

| Tessera on | Import (s) | Objects added | Goal (< ${GOAL_SECONDS} s) | Re-run with no change (s) | Changes found by the re-run | Process memory after the import |
|---|---|---|---|---|---|---|
${rows.map((r) => `| ${r.db} | ${r.importSeconds.toFixed(1)} | ${r.added.toLocaleString('en-US')} | ${r.importSeconds < GOAL_SECONDS ? 'met' : '**not met**'} | ${r.rerunSeconds.toFixed(1)} | ${r.rerunChanges} | ${Math.round(r.rssMiB)} MiB |`).join('\n')}
`;
process.stdout.write(`${body}\n`);
if (!flags['no-write']) writeSection('import', body);
