import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { SYSTEM_ACTOR } from '../../auth/actor.ts';
import type { AppError } from '../../errors/app-error.ts';
import { currentGroupsOf } from '../../groups/group.service.ts';
import { buildCo, everyRow, forEachDialect, useTestApp } from '../../../../test/support/test-app.ts';
import { startPostgres, createDatabase, type PostgresInstance } from '../../../../test/support/postgres.ts';
import { startMariadb, createMariadbDatabase, type MariadbInstance } from '../../../../test/support/mariadb.ts';
import { createSpTables, insertSp, openComanage, seedRealisticV4, spTime } from '../../../../test/support/comanage-sp.ts';
import { addSource, getSource, runSource } from '../source.service.ts';

const BACKENDS = ['postgres', 'mariadb'] as const;

forEachDialect('COmanage SQL source', (dialect) => {
  const t = useTestApp(dialect);
  let pg: PostgresInstance;
  let maria: MariadbInstance;
  before(async () => {
    [pg, maria] = await Promise.all([startPostgres(), startMariadb()]);
  });
  after(async () => {
    await Promise.all([pg?.stop(), maria?.stop()]);
  });
  const newDatabase = (backend: (typeof BACKENDS)[number]) => (backend === 'postgres' ? createDatabase(pg.url) : createMariadbDatabase(maria.url));

  for (const backend of BACKENDS) {
    describe(`reading ${backend}`, () => {
      it('maps a realistic v4 CO, changes nothing on a re-run, writes nothing on a dry run, suspends removed people and runs incrementally', async () => {
        const url = await newDatabase(backend);
        const conn = await openComanage(url);
        try {
          await createSpTables(conn, 'v4');
          await seedRealisticV4(conn.db, t.clock.now());
          const co = await buildCo(t);
          const source = await addSource(t.ctx, SYSTEM_ACTOR, co.id, { kind: 'comanage-sql', name: 'registry', settings: { databaseUrl: url } });

          const before = await everyRow(t.db);
          const dry = await runSource(t.ctx, SYSTEM_ACTOR, co.id, source.id, { dryRun: true });
          assert.deepEqual(await everyRow(t.db), before, 'a dry run writes nothing');
          assert.equal(dry.counts.people.added, 8);
          assert.deepEqual(dry.diff.groups.added.map((g) => g.label).sort(), ['CO:COU:Chemistry:admins', 'Physics Ω']);

          const phases: string[] = [];
          const first = await runSource(t.ctx, SYSTEM_ACTOR, co.id, source.id, { onProgress: async (phase) => void phases.push(phase) });
          assert.deepEqual(first.skipped, []);
          assert.equal(first.counts.mode, 'full');
          assert.ok(phases.includes('reading people') && phases.includes('people'), `progress reported: ${phases.join(', ')}`);

          const people = await t.db.selectFrom('co_person').select(['id', 'external_id', 'status']).where('source_id', '=', source.id).orderBy('external_id').execute();
          assert.deepEqual(Object.fromEntries(people.map((p) => [p.external_id, p.status])), {
            1: 'active', 2: 'grace_period', 3: 'suspended', 4: 'expired', 5: 'suspended', 6: 'pending', 7: 'suspended', 8: 'active',
          });
          const pid = (ext: string) => people.find((p) => p.external_id === ext)!.id;
          const zoeIds = await t.db.selectFrom('identifier').select(['identifier', 'type', 'login']).where('person_id', '=', pid('1')).orderBy('type').execute();
          assert.deepEqual(zoeIds, [
            { identifier: 'zoe@example.org', type: 'eppn', login: 0 },
            { identifier: 'cn=Zoë, o="Acme"+x\\;y#<z>', type: 'network', login: 0 },
            { identifier: 'zoe', type: 'uid', login: 1 },
          ]);
          const zoeNames = await t.db.selectFrom('name').select(['given', 'family', 'primary_name']).where('person_id', '=', pid('1')).orderBy('primary_name', 'desc').execute();
          assert.deepEqual(zoeNames, [{ given: 'Zoë', family: 'Ångström-Łukasiewicz', primary_name: 1 }, { given: 'Zoe', family: 'Angstrom', primary_name: 0 }]);
          assert.ok(await t.db.selectFrom('co_identifier_type').select('name').where('co_id', '=', co.id).where('name', '=', 'sor-hr').executeTakeFirst(), 'a COmanage identifier type is added to the CO');

          const physics = await t.db.selectFrom('co_group').select('id').where('co_id', '=', co.id).where('name', '=', 'Physics Ω').executeTakeFirstOrThrow();
          const memberships = await t.db.selectFrom('co_group_member as m').innerJoin('co_person as p', 'p.id', 'm.person_id').select(['p.external_id', 'm.owner', 'm.valid_from', 'm.valid_through']).where('m.group_id', '=', physics.id).orderBy('p.external_id').execute();
          const now = t.clock.now();
          const iso = (days: number) => `${spTime(now, days).replace(' ', 'T')}.000Z`;
          assert.deepEqual(memberships, [
            { external_id: '1', owner: 1, valid_from: iso(-5), valid_through: iso(30) },
            { external_id: '2', owner: 0, valid_from: iso(10), valid_through: null },
          ]);
          assert.deepEqual((await currentGroupsOf(t.db, co.id, pid('1'), now)).map((g) => g.name).sort(), ['CO:admins', 'CO:members:active', 'Physics Ω']);
          assert.ok(!(await currentGroupsOf(t.db, co.id, pid('2'), now)).some((g) => g.name === 'Physics Ω'), 'a future membership does not count yet');

          const historyCount = async () => Number((await t.db.selectFrom('history_record').select((eb) => eb.fn.countAll().as('n')).where('co_id', '=', co.id).executeTakeFirstOrThrow()).n);
          const jobsCount = async () => Number((await t.db.selectFrom('provisioning_job').select((eb) => eb.fn.countAll().as('n')).where('co_id', '=', co.id).executeTakeFirstOrThrow()).n);
          const [h, j] = [await historyCount(), await jobsCount()];
          const again = await runSource(t.ctx, SYSTEM_ACTOR, co.id, source.id, { full: true });
          assert.deepEqual([again.counts.people, again.counts.groups, again.counts.memberships], [
            { added: 0, changed: 0, suspended: 0, unchanged: 8 },
            { added: 0, changed: 0, removed: 0, unchanged: 2 },
            { added: 0, changed: 0, removed: 0, unchanged: 4 },
          ]);
          assert.deepEqual([await historyCount(), await jobsCount()], [h, j], 'a re-run writes no history and no job');

          // Ann leaves COmanage (the provisioner deletes her rows); José's name changes later.
          for (const table of ['identifiers', 'names', 'co_person_roles', 'co_group_members']) await sql`delete from ${sql.table(`sp_${table}`)} where co_person_id = 8`.execute(conn.db);
          await sql`delete from sp_co_people where id = 8`.execute(conn.db);
          t.clock.advance(60_000);
          await sql`update sp_names set given = ${'Josè'}, modified = ${spTime(t.clock.now())} where co_person_id = 2`.execute(conn.db);
          const incremental = await runSource(t.ctx, SYSTEM_ACTOR, co.id, source.id);
          assert.equal(incremental.counts.mode, 'incremental');
          assert.deepEqual(incremental.diff.people.changed.map((p) => p.externalId), ['2']);
          assert.equal(incremental.counts.people.suspended, 0, 'an incremental run cannot see removals');
          const full = await runSource(t.ctx, SYSTEM_ACTOR, co.id, source.id, { full: true });
          assert.deepEqual(full.diff.people.suspended.map((p) => p.externalId), ['8']);
          assert.equal((await t.db.selectFrom('co_person').select('status').where('id', '=', pid('8')).executeTakeFirstOrThrow()).status, 'suspended');
          const stored = await getSource(t.ctx, SYSTEM_ACTOR, co.id, source.id);
          assert.equal(stored.lastError, null);
          assert.equal(stored.lastRunCounts?.people.suspended, 1);
        } finally {
          await conn.close();
        }
      });

      it('reads the v5 layout, types through sp_types', async () => {
        const url = await newDatabase(backend);
        const conn = await openComanage(url);
        try {
          await createSpTables(conn, 'v5');
          const at = spTime(t.clock.now(), -1);
          const s = { created: at, modified: at };
          await insertSp(conn.db, 'types', [{ id: 1, attribute: 'Name.type', value: 'official', ...s }, { id: 2, attribute: 'Identifier.type', value: 'uid', ...s }, { id: 3, attribute: 'EmailAddress.type', value: 'official', ...s }]);
          await insertSp(conn.db, 'people', [{ id: 41, status: 'A', ...s }]);
          await insertSp(conn.db, 'names', [{ id: 1, person_id: 41, given: 'Żaneta', family: 'Kowalska', type_id: 1, primary_name: true, ...s }]);
          await insertSp(conn.db, 'identifiers', [{ id: 1, person_id: 41, identifier: 'zaneta', type_id: 2, login: true, status: 'A', ...s }]);
          await insertSp(conn.db, 'email_addresses', [{ id: 1, person_id: 41, mail: 'z@example.org', type_id: 3, verified: true, ...s }]);
          await insertSp(conn.db, 'groups', [{ id: 7, cou_id: null, name: 'Wiki', description: '', open: false, status: 'A', group_type: 'S', ...s }]);
          await insertSp(conn.db, 'group_members', [{ id: 1, group_id: 7, person_id: 41, valid_from: null, valid_through: null, ...s }]);
          const co = await buildCo(t);
          const wrong = await addSource(t.ctx, SYSTEM_ACTOR, co.id, { kind: 'comanage-sql', name: 'v4-guess', settings: { databaseUrl: url } });
          await assert.rejects(runSource(t.ctx, SYSTEM_ACTOR, co.id, wrong.id), (e: AppError) => e.code === 'SOURCE_RUN_FAILED' && /use --layout v5/.test(e.message));
          const source = await addSource(t.ctx, SYSTEM_ACTOR, co.id, { kind: 'comanage-sql', name: 'pe', settings: { databaseUrl: url, layout: 'v5' } });
          const result = await runSource(t.ctx, SYSTEM_ACTOR, co.id, source.id);
          assert.deepEqual([result.counts.people.added, result.counts.groups.added, result.counts.memberships.added], [1, 1, 1]);
          const ident = await t.db.selectFrom('identifier').select(['identifier', 'type', 'login']).where('co_id', '=', co.id).executeTakeFirstOrThrow();
          assert.deepEqual(ident, { identifier: 'zaneta', type: 'uid', login: 1 });
        } finally {
          await conn.close();
        }
      });

      it('records a clear error and writes nothing for a wrong URL or missing tables', async () => {
        const url = await newDatabase(backend);
        const conn = await openComanage(url);
        try {
          await createSpTables(conn, 'v4', 'sp_', ['co_group_members']);
          const co = await buildCo(t);
          const missing = await addSource(t.ctx, SYSTEM_ACTOR, co.id, { kind: 'comanage-sql', name: 'missing', settings: { databaseUrl: url } });
          const before = await t.db.selectFrom('co_person').select('id').where('co_id', '=', co.id).execute();
          await assert.rejects(runSource(t.ctx, SYSTEM_ACTOR, co.id, missing.id), (e: AppError) => e.code === 'SOURCE_RUN_FAILED' && /no table sp_co_group_members/.test(e.message));
          assert.match((await getSource(t.ctx, SYSTEM_ACTOR, co.id, missing.id)).lastError ?? '', /no table sp_co_group_members/);
          const closed = new URL(url);
          closed.port = '1';
          const unreachable = await addSource(t.ctx, SYSTEM_ACTOR, co.id, { kind: 'comanage-sql', name: 'unreachable', settings: { databaseUrl: closed.toString() } });
          await assert.rejects(runSource(t.ctx, SYSTEM_ACTOR, co.id, unreachable.id), (e: AppError) => e.code === 'SOURCE_RUN_FAILED' && /cannot read/.test(e.message));
          assert.match((await getSource(t.ctx, SYSTEM_ACTOR, co.id, unreachable.id)).lastError ?? '', /cannot read/);
          assert.deepEqual(await t.db.selectFrom('co_person').select('id').where('co_id', '=', co.id).execute(), before);
          await assert.rejects(addSource(t.ctx, SYSTEM_ACTOR, co.id, { kind: 'comanage-sql', name: 'bad', settings: { databaseUrl: 'http://x' } }), (e: AppError) => e.code === 'VALIDATION_FAILED' && e.field === 'databaseUrl');
        } finally {
          await conn.close();
        }
      });
    });
  }
});
