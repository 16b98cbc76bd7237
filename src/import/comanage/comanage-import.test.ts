// `tessera import comanage` against real COmanage-shaped databases (PostgreSQL and MariaDB, the
// schema written from COmanage's own schema files) into Tessera on SQLite and PostgreSQL.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { migrateToLatest, migrationSets } from '../../db/migrator.ts';
import { systemClock } from '../../core/clock.ts';
import { serviceTokensPlugin } from '../../plugins/service-tokens/service-tokens.plugin.ts';
import { verifySecret } from '../../plugins/service-tokens/hashing/password-schemes.ts';
import type { ServiceTokenTables } from '../../plugins/service-tokens/service-token.table.ts';
import { forEachDialect, openTestDatabase } from '../../../test/support/test-app.ts';
import { createDatabase, startPostgres, type PostgresInstance } from '../../../test/support/postgres.ts';
import { createMariadbDatabase, startMariadb, type MariadbInstance } from '../../../test/support/mariadb.ts';
import { connectComanage, createComanageSchema } from './comanage-fixture.test-support.ts';
import { SEED, seedComanage } from './comanage-seed.test-support.ts';
import { importComanage, tokenSchemeProblem, type CoReport, type ImportOptions } from './comanage-import.service.ts';
import { ComanageSourceError, openComanageReader } from './comanage-reader.ts';
import { passwordServicesOf } from './comanage-services.ts';
import { searchPeople } from '../../core/people/person-search.repository.ts';

let pgSource: PostgresInstance | undefined;
let mariaSource: MariadbInstance | undefined;
before(async () => {
  [pgSource, mariaSource] = await Promise.all([startPostgres(), startMariadb()]);
});
after(async () => {
  await Promise.all([pgSource?.stop(), mariaSource?.stop()]);
});

async function freshSource(kind: 'postgres' | 'mariadb'): Promise<string> {
  return kind === 'postgres' ? createDatabase(pgSource!.url) : createMariadbDatabase(mariaSource!.url);
}

const OPTIONS: ImportOptions = { coIds: [SEED.co.id], tokenScheme: 'ARGON2ID', passwordsService: 'accounts', dryRun: false };

function totals(report: CoReport): { added: number; changed: number; removed: number } {
  const all = Object.values(report.counts);
  return { added: all.reduce((n, c) => n + c.added, 0), changed: all.reduce((n, c) => n + c.changed, 0), removed: all.reduce((n, c) => n + c.removed, 0) };
}

forEachDialect('tessera import comanage', (dialect) => {
  for (const source of ['postgres', 'mariadb'] as const) {
    describe(`from COmanage on ${source}`, () => {
      let tessera: Awaited<ReturnType<typeof openTestDatabase>>;
      let url: string;
      const db = () => tessera.db.withTables<ServiceTokenTables>();
      const run = async (options: Partial<ImportOptions> = {}) => {
        const reader = await openComanageReader(url);
        try {
          return await importComanage(tessera.db, systemClock, reader, { ...OPTIONS, ...options });
        } finally {
          await reader.close();
        }
      };
      const rowCounts = async () => {
        const out: Record<string, number> = {};
        for (const table of ['co', 'co_person', 'name', 'identifier', 'email_address', 'co_group', 'co_group_member', 'co_service', 'history_record', 'service_token_setting', 'service_token', 'comanage_import_map'] as const) {
          const row = await sql<{ n: number | string }>`select count(*) as n from ${sql.table(table)}`.execute(tessera.db);
          out[table] = Number(row.rows[0]!.n);
        }
        return out;
      };

      before(async () => {
        tessera = await openTestDatabase(dialect);
        await migrateToLatest(tessera.db, migrationSets([serviceTokensPlugin()]));
        url = await freshSource(source);
        await createComanageSchema(url);
        const cm = await connectComanage(url);
        await seedComanage(cm);
        await cm.close();
      });
      after(async () => tessera?.cleanup());

      it('a dry run reports what would be imported and writes nothing', async () => {
        const [report] = await run({ dryRun: true });
        assert.equal(report!.error, undefined);
        assert.equal(report!.counts.person!.added, 6);
        assert.equal(report!.counts.token!.added, 2);
        const counts = await rowCounts();
        assert.equal(counts.co, 0);
        assert.equal(counts.comanage_import_map, 0);
      });

      it('imports current rows only, mapped to Tessera, skipping what breaks a rule with its reason', async () => {
        const [report] = await run();
        assert.equal(report!.error, undefined, report!.error);
        const co = await db().selectFrom('co').selectAll().where('name', '=', SEED.co.name).executeTakeFirstOrThrow();
        assert.equal(report!.coId, co.id);
        assert.equal(await db().selectFrom('co').select('id').where('name', '=', SEED.otherCo.name).executeTakeFirst(), undefined, '--co limits the import');

        const people = await db().selectFrom('co_person').innerJoin('name', 'name.person_id', 'co_person.id').select(['name.given', 'name.family', 'co_person.status']).where('co_person.co_id', '=', co.id).orderBy('name.given').execute();
        assert.deepEqual(people.map((p) => `${p.given} ${p.family} ${p.status}`), [
          "Ada Lovelace active", "Bob O'Brien suspended", 'Carol Çelik expired', 'Dan Đorđević deleted', 'Eve 李 pending', 'Zoë Ærøskøbing-Łukasiewicz grace_period',
        ]);
        const identifiers = await db().selectFrom('identifier').select(['identifier', 'type', 'status', 'login']).where('co_id', '=', co.id).orderBy('identifier').execute();
        assert.deepEqual(identifiers.map((i) => `${i.type}:${i.identifier}:${i.status}:${i.login}`).sort(), [
          'badge:B-1234:active:0', 'uid:ada:active:1', 'eppn:ada@example.org:active:0', 'uid:bob,admin+x:active:1', 'uid:carol:active:1', 'uid:dan:suspended:1', 'uid:eve:active:1', 'uid:zoë:active:1',
        ].sort());
        assert.deepEqual((await db().selectFrom('co_identifier_type').select('name').where('co_id', '=', co.id).execute()).map((r) => r.name), ['badge']);
        assert.deepEqual((await db().selectFrom('email_address').select('mail').where('co_id', '=', co.id).orderBy('mail').execute()).map((r) => r.mail), ['ada@example.org']);
        const found = async (q: string) => (await searchPeople(db(), co.id, { q, limit: 10, offset: 0 })).people.length;
        assert.deepEqual([await found('Lovelace'), await found('ada'), await found('example.org'), await found('bob,admin')], [1, 1, 1, 1], 'imported people are found by the People search');

        const groups = await db().selectFrom('co_group').select(['id', 'name', 'group_type']).where('co_id', '=', co.id).orderBy('name').execute();
        assert.deepEqual(groups.map((g) => `${g.name}/${g.group_type}`), ['CO:COU:Optics:members:active/standard', 'CO:admins/admins', 'CO:members:active/members', 'astro-wiki/standard']);
        const wiki = groups.find((g) => g.name === 'astro-wiki')!;
        const windows = await db().selectFrom('co_group_member').innerJoin('identifier', 'identifier.person_id', 'co_group_member.person_id').select(['identifier.identifier', 'valid_from', 'valid_through']).where('group_id', '=', wiki.id).where('identifier.type', '=', 'uid').orderBy('identifier.identifier').execute();
        assert.deepEqual(windows, [
          { identifier: 'ada', valid_from: '2023-01-01T00:00:00.000Z', valid_through: '2024-01-01T00:00:00.000Z' },
          { identifier: 'bob,admin+x', valid_from: '2099-01-01T00:00:00.000Z', valid_through: null },
          { identifier: 'zoë', valid_from: '2024-01-01T00:00:00.000Z', valid_through: '2099-12-31T23:59:59.000Z' },
        ]);
        const admins = groups.find((g) => g.group_type === 'admins')!;
        assert.equal((await db().selectFrom('co_group_member').select('id').where('group_id', '=', admins.id).execute()).length, 1, 'Ada is a CO admin');
        const members = groups.find((g) => g.group_type === 'members')!;
        assert.equal((await db().selectFrom('co_group_member').select('id').where('group_id', '=', members.id).execute()).length, 0, 'the members group stays automatic');

        const services = await db().selectFrom('co_service').select(['name', 'short_label', 'visibility', 'co_group_id', 'status']).where('co_id', '=', co.id).orderBy('name').execute();
        assert.deepEqual(services.map((s) => `${s.name}/${s.short_label}/${s.visibility}/${s.co_group_id === wiki.id ? 'wiki-group' : s.co_group_id}`), [
          'Accounts/accounts/unauthenticated/null', 'Git Lab!/GitLab/co_admin/null', 'Mail/mail/co_member/null', 'Wiki/wiki/co_group_member/wiki-group',
        ]);

        const tokens = await db().selectFrom('service_token').innerJoin('co_service', 'co_service.id', 'service_token.service_id').select(['co_service.short_label', 'hash', 'token_type', 'display_hint', 'storage_scheme']).where('service_token.co_id', '=', co.id).orderBy('co_service.short_label').orderBy('hash').execute();
        const wikiToken = tokens.find((t) => t.short_label === 'wiki')!;
        assert.match(wikiToken.hash, /^\{ARGON2\}/);
        assert.equal(wikiToken.token_type, 'legacy-plain-15');
        assert.equal(wikiToken.display_hint, '…015');
        assert.equal(await verifySecret(SEED.adaWikiToken, wikiToken.hash), true);
        assert.equal(await verifySecret(SEED.zoeMailToken, tokens.find((t) => t.short_label === 'mail')!.hash), true);
        for (const t of tokens) assert.ok(t.hash !== SEED.adaWikiToken && t.hash !== SEED.zoeMailToken && !t.hash.includes('plaintext'), 'no plaintext is stored');
        const passwords = tokens.filter((t) => t.short_label === 'accounts').map((t) => t.hash);
        assert.equal(passwords.length, 3);
        assert.ok(passwords.some((h) => h.startsWith('{SSHA}')));
        assert.ok(passwords.includes(`{CRYPT}${SEED.zoeBcrypt.hash}`), 'crypt values keep their hash, with {CRYPT} not (CRYPT)');
        assert.equal(await verifySecret(SEED.adaSshaPassword, passwords.find((h) => h.startsWith('{SSHA}'))!), true);
        assert.equal(await verifySecret(SEED.adaCryptPassword, passwords.find((h) => h.startsWith('{CRYPT}$6$'))!), true);
        const settings = await db().selectFrom('service_token_setting').innerJoin('co_service', 'co_service.id', 'service_token_setting.service_id').select(['co_service.short_label', 'token_type', 'storage_scheme', 'enabled']).where('service_token_setting.co_id', '=', co.id).orderBy('co_service.short_label').execute();
        assert.deepEqual(settings.map((s) => `${s.short_label}/${s.token_type}/${s.storage_scheme}/${s.enabled}`), ['accounts/base62-prefixed/SSHA512/1', 'mail/legacy-plain-8/ARGON2ID/1', 'wiki/legacy-plain-15/ARGON2ID/1']);

        const history = await db().selectFrom('history_record').select(['action', 'comment']).where('co_id', '=', co.id).orderBy('action').execute();
        assert.deepEqual(history.map((h) => h.action), ['COMANAGE_ACGM', 'COMANAGE_IMPORTED', 'COMANAGE_pCPA']);

        const skipped = report!.skipped.map((s) => `${s.kind} ${s.cmId}`).sort();
        assert.deepEqual(skipped, ['email 302', 'email 303', 'identifier 209', 'name 108', 'password 1003', 'person 18', 'token 902'].sort());
        assert.match(report!.skipped.find((s) => s.kind === 'identifier')!.reason, /also identifier 200/);
        assert.match(report!.skipped.find((s) => s.cmId === 302)!.reason, /not an email address Tessera accepts: "zoë@exämple.org"/);
        assert.match(report!.skipped.find((s) => s.kind === 'password')!.reason, /plaintext/);
        assert.ok(report!.notes.some((n) => n.includes('"GitLab"')));
      });

      it('a re-run changes nothing', async () => {
        const before = await rowCounts();
        const [report] = await run();
        assert.deepEqual(totals(report!), { added: 0, changed: 0, removed: 0 });
        assert.deepEqual(await rowCounts(), before);
      });

      it('a re-run after changes at the source imports only what changed', async () => {
        const cm = await connectComanage(url);
        await cm.query('update cm_names set given = ? where id = ?', ['Zoé', 103]);
        await cm.query('update cm_co_people set deleted = ? where id = ?', [true, 15]);
        await cm.query('insert into cm_identifiers (id, co_person_id, identifier, type, login, status, deleted) values (?, ?, ?, ?, ?, ?, ?)', [250, 13, 'carol@example.org', 'eppn', false, 'A', false]);
        await cm.close();
        const [report] = await run();
        assert.deepEqual(report!.counts.name, { added: 0, changed: 1, unchanged: 4, removed: 1 }, 'Eve\'s name is no longer read; it stays in Tessera with her');
        assert.deepEqual(report!.counts.identifier, { added: 1, changed: 0, unchanged: 7, removed: 1 });
        assert.equal(report!.counts.person!.removed, 1);
        const coId = (await db().selectFrom('co').select('id').where('name', '=', SEED.co.name).executeTakeFirstOrThrow()).id;
        const found = async (q: string) => (await searchPeople(db(), coId, { q, limit: 10, offset: 0 })).people.length;
        assert.deepEqual([await found('Zoé Ærø'), await found('Zoë Ærø'), await found('carol@example.org')], [1, 0, 1], 'the People search follows changed and added rows');
        const eve = await db().selectFrom('identifier').innerJoin('co_person', 'co_person.id', 'identifier.person_id').select('co_person.status').where('identifier.identifier', '=', 'carol@example.org').executeTakeFirst();
        assert.ok(eve, 'the new identifier is there');
        const eveStatus = await db().selectFrom('co_person').innerJoin('name', 'name.person_id', 'co_person.id').select('co_person.status').where('name.given', '=', 'Eve').executeTakeFirstOrThrow();
        assert.equal(eveStatus.status, 'suspended', 'a person removed at the source is suspended, not deleted');
        assert.equal((await db().selectFrom('identifier').select('id').where('identifier', '=', 'eve').execute()).length, 1, 'her identifiers stay');
        // She comes back: restored, nothing duplicated.
        const back = await connectComanage(url);
        await back.query('update cm_co_people set deleted = ? where id = ?', [false, 15]);
        await back.close();
        const [returned] = await run();
        assert.equal(returned!.counts.person!.changed, 1);
        assert.equal(returned!.counts.name!.added, 0);
        assert.equal((await db().selectFrom('co_person').innerJoin('name', 'name.person_id', 'co_person.id').select('co_person.status').where('name.given', '=', 'Eve').executeTakeFirstOrThrow()).status, 'pending');
        assert.deepEqual(totals((await run())[0]!), { added: 0, changed: 0, removed: 0 });
      });
    });
  }

  describe('bad input', () => {
    let tessera: Awaited<ReturnType<typeof openTestDatabase>>;
    before(async () => {
      tessera = await openTestDatabase(dialect);
      await migrateToLatest(tessera.db, migrationSets([serviceTokensPlugin()]));
    });
    after(async () => tessera?.cleanup());

    it('refuses a URL that is not a database URL, an unreachable server and a database without COmanage tables', async () => {
      await assert.rejects(openComanageReader('not a url'), (e: Error) => e instanceof ComanageSourceError && /not a URL/.test(e.message));
      await assert.rejects(openComanageReader('http://127.0.0.1/registry'), /unsupported database URL scheme "http:"/);
      await assert.rejects(openComanageReader('postgres://nobody@127.0.0.1:1/registry'), (e: Error) => e instanceof ComanageSourceError && /cannot read the COmanage database at postgres:\/\/nobody@127\.0\.0\.1:1\/registry/.test(e.message));
      const empty = await freshSource('mariadb');
      await assert.rejects(openComanageReader(empty), /not a COmanage Registry v4 database: the table\(s\) cm_cos, cm_co_people.* are missing/);
    });

    it('sends a password to the services that use its authenticator, else to --passwords-service, else nowhere', () => {
      const s = { passwordServices: [{ password_authenticator_id: 1, co_service_id: 600 }, { password_authenticator_id: 1, co_service_id: 601 }] };
      assert.deepEqual(passwordServicesOf(s, 1, 604), [600, 601]);
      assert.deepEqual(passwordServicesOf(s, 2, 604), [604]);
      assert.deepEqual(passwordServicesOf(s, 2, undefined), []);
    });

    it('refuses a fast token scheme for the legacy token types', () => {
      assert.match(tokenSchemeProblem('SSHA512') ?? '', /too fast for the legacy token types/);
      assert.equal(tokenSchemeProblem('ARGON2ID'), undefined);
    });

    it('a CO that fails half-way is left untouched, and the next run imports it whole', async () => {
      const url = await freshSource('postgres');
      await createComanageSchema(url);
      const cm = await connectComanage(url);
      await seedComanage(cm);
      await cm.close();
      // A failure after the CO, its people and its groups were written: the insert of memberships.
      if (dialect === 'sqlite') await sql`create trigger fail_members before insert on co_group_member begin select raise(abort, 'memberships refused'); end`.execute(tessera.db);
      else {
        await sql`create function fail_members() returns trigger language plpgsql as $$ begin raise exception 'memberships refused'; end $$`.execute(tessera.db);
        await sql`create trigger fail_members before insert on co_group_member for each row execute function fail_members()`.execute(tessera.db);
      }
      const reader = await openComanageReader(url);
      try {
        const [report] = await importComanage(tessera.db, systemClock, reader, OPTIONS);
        assert.match(report!.error ?? '', /memberships refused/);
        for (const table of ['co', 'co_person', 'identifier', 'comanage_import_map'] as const) {
          const n = await sql<{ n: number | string }>`select count(*) as n from ${sql.table(table)}`.execute(tessera.db);
          assert.equal(Number(n.rows[0]!.n), 0, `${table} is untouched`);
        }
        await sql`drop trigger fail_members${dialect === 'postgres' ? sql` on co_group_member` : sql``}`.execute(tessera.db);
        const [again] = await importComanage(tessera.db, systemClock, reader, OPTIONS);
        assert.equal(again!.error, undefined);
        assert.equal(again!.counts.person!.added, 6);
      } finally {
        await reader.close();
      }
    });
  });
});
