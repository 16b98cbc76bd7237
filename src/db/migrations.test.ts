import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { Migrator, sql } from 'kysely';
import { forEachDialect, openTestDatabase } from '../../test/support/test-app.ts';
import { testPlugin, type TestNoteTables } from '../../test/support/test-plugin.ts';
import type { CoreDatabase } from './core-tables.ts';
import type { Database } from './database.ts';
import { migrateAllDown, migrateToLatest, migrationSets } from './migrator.ts';

/**
 * Every column of a table and whether it may hold NULL. Typed from the table interfaces, so this
 * listing cannot miss or invent a column, nor disagree about nullability, without failing the
 * type check; the tests below then hold the migrated schema to it, on both dialects.
 */
type Shape<T> = { [K in keyof T]-?: null extends T[K] ? 'null' : 'not null' };
type Schema<DB> = { [Table in keyof DB]: Shape<DB[Table]> };

const N = 'null' as const;
const R = 'not null' as const;

const CORE_SCHEMA: Schema<CoreDatabase> = {
  co: { id: R, name: R, description: R, status: R, is_platform: R, created_at: R, updated_at: R },
  co_person: { id: R, co_id: R, status: R, created_at: R, updated_at: R, source_id: N, external_id: N },
  identifier: { id: R, co_id: R, person_id: R, identifier: R, type: R, match_key: R, login: R, status: R, created_at: R, source_id: N, external_id: N },
  co_identifier_type: { id: R, co_id: R, name: R },
  name: { id: R, co_id: R, person_id: R, given: R, middle: N, family: N, suffix: N, type: R, primary_name: R, source_id: N, external_id: N },
  email_address: { id: R, co_id: R, person_id: R, mail: R, type: R, verified: R, source_id: N, external_id: N },
  co_group: { id: R, co_id: R, name: R, description: R, status: R, group_type: R, created_at: R, source_id: N, external_id: N },
  co_group_member: { id: R, co_id: R, group_id: R, person_id: R, member: R, owner: R, valid_from: N, valid_through: N, created_at: R, source_id: N, external_id: N },
  co_service: {
    id: R, co_id: R, name: R, description: R, short_label: R, co_group_id: N, service_url: N, contact_email: N, logo_url: N,
    entitlement_uri: N, visibility: R, identifier_type: R, status: R, created_at: R, updated_at: R,
  },
  history_record: {
    id: R, co_id: R, person_id: N, group_id: N, service_id: N, actor_person_id: N, actor_api_user_id: N, actor_label: R,
    action: R, comment: R, created_at: R,
  },
  api_user: { id: R, co_id: R, username: R, key_hash: R, privileged: R, status: R, valid_from: N, valid_through: N, allowed_addresses: R, created_at: R },
  local_account: { id: R, username: R, match_key: R, password_hash: R, created_at: R },
  web_session: { id: R, username: R, auth_method: R, identifier_type: R, match_key: R, person_ids: R, created_at: R, expires_at: R, last_seen_at: R },
  provisioning_target: {
    id: R, co_id: R, provisioner_type: R, description: R, mode: R, ordinal: R, retry_interval_seconds: R, max_retries: R,
    provision_group_id: N, config: R, created_at: R, updated_at: R,
  },
  provisioning_job: {
    id: R, co_id: R, target_id: R, person_id: R, kind: R, state: R, attempts: R, run_after: R, locked_by: N, locked_until: N,
    last_error: N, batch_id: N, reason: R, created_at: R, updated_at: R, finished_at: N, held_since: N, held_attempts: R,
  },
  provisioning_state: {
    id: R, co_id: R, target_id: R, person_id: R, status: R, target_key: N, detail: R, last_error: N, last_attempt_at: R, last_success_at: N,
  },
  notification: { id: R, co_id: R, person_id: R, kind: R, subject: R, body: R, link: N, created_at: R, read_at: N },
  outbound_email: {
    id: R, co_id: R, notification_id: N, to_address: R, subject: R, text_body: R, html_body: R, state: R, attempts: R, run_after: R,
    locked_until: N, last_error: N, created_at: R, sent_at: N,
  },
  sweep_mark: { name: R, swept_through: R },
  source: {
    id: R, co_id: R, kind: R, name: R, settings_encrypted: R, status: R, last_run_at: N, last_full_run_at: N, last_run_counts: N,
    last_error: N, watermark: N, progress: N, created_at: R, updated_at: R,
  },
  comanage_import_map: { installation: R, comanage_co_id: R, kind: R, comanage_id: R, co_id: R, tessera_id: R, digest: R, imported_at: R },
  scim_token: { id: R, co_id: R, source_id: R, label: R, token_hash: R, hint: R, created_at: R, last_used_at: N, revoked_at: N },
  person_search_term: { co_id: R, person_id: R, part_id: R, term: R },
};

const PLUGIN_SCHEMA: Schema<TestNoteTables> = {
  test_note: { id: R, co_id: R, person_id: N, kind: R, reason: R, created_at: R },
};

const EXPECTED: Record<string, Record<string, string>> = { ...CORE_SCHEMA, ...PLUGIN_SCHEMA };
const isBookkeeping = (table: string) => table.startsWith('tessera_migration_');

forEachDialect('Migrations', (dialect) => {
  let database: Database & { cleanup(): Promise<void> };
  const sets = migrationSets([testPlugin]);
  before(async () => {
    database = await openTestDatabase(dialect);
  });
  after(() => database.cleanup());

  async function schemaOf(): Promise<Record<string, Record<string, string>>> {
    const tables = await database.db.introspection.getTables();
    const out: Record<string, Record<string, string>> = {};
    for (const table of tables) {
      if (isBookkeeping(table.name)) continue;
      out[table.name] = Object.fromEntries(
        table.columns.map((c) => [
          c.name,
          // SQLite lets a non-INTEGER primary key hold NULL (a documented legacy quirk) and reports
          // it so; ids are made by the application, so only the declared intent is compared.
          c.isNullable && !(dialect === 'sqlite' && c.name === 'id') ? N : R,
        ]),
      );
    }
    return out;
  }

  async function tableNames(): Promise<string[]> {
    return (await database.db.introspection.getTables()).map((t) => t.name).sort();
  }

  it('migrates an empty database up to a schema with exactly the expected tables and columns', async () => {
    const applied = await migrateToLatest(database.db, sets);
    assert.ok(applied.includes('core/20261128000000-core'));
    assert.ok(applied.includes(`${testPlugin.id}/20261128090000-test-notes`));
    assert.deepEqual(await schemaOf(), EXPECTED);
    assert.deepEqual(await migrateToLatest(database.db, sets), [], 'a second run applies nothing');
  });

  it('keeps the uniqueness the domain relies on in the schema', async () => {
    const now = new Date().toISOString();
    const db = database.db;
    await db.insertInto('co').values({ id: 'co-1', name: 'One', description: '', status: 'active', is_platform: 0, created_at: now, updated_at: now }).execute();
    await assert.rejects(db.insertInto('co').values({ id: 'co-2', name: 'One', description: '', status: 'active', is_platform: 0, created_at: now, updated_at: now }).execute());
    const service = { co_id: 'co-1', name: 'S', description: '', co_group_id: null, service_url: null, contact_email: null, logo_url: null, entitlement_uri: null, visibility: 'co_member' as const, identifier_type: 'uid', status: 'active' as const, created_at: now, updated_at: now };
    await db.insertInto('co_service').values({ ...service, id: 's-1', short_label: 'Wiki' }).execute();
    await assert.rejects(db.insertInto('co_service').values({ ...service, id: 's-2', short_label: 'wIKI' }).execute(), 'short labels are unique per CO ignoring case');
    await db.insertInto('co_person').values({ id: 'p-1', co_id: 'co-1', status: 'active', created_at: now, updated_at: now }).execute();
    const ident = { co_id: 'co-1', person_id: 'p-1', identifier: 'ada', match_key: 'ada', login: 1, status: 'active' as const, created_at: now };
    await db.insertInto('identifier').values({ ...ident, id: 'i-1', type: 'uid' }).execute();
    await assert.rejects(db.insertInto('identifier').values({ ...ident, id: 'i-2', type: 'uid' }).execute(), '(identifier, type) is unique within a CO');
    await assert.rejects(db.insertInto('identifier').values({ ...ident, identifier: 'ADA', id: 'i-4', type: 'uid' }).execute(), '(match key, type) is unique within a CO');
    await db.insertInto('identifier').values({ ...ident, id: 'i-3', type: 'eppn' }).execute();
    // Deleting the CO takes everything of it along.
    await db.deleteFrom('co').where('id', '=', 'co-1').execute();
    for (const table of ['co_service', 'co_person', 'identifier'] as const) {
      assert.deepEqual(await db.selectFrom(table).select('id').execute(), [], table);
    }
  });

  it('migrates down to nothing, plugins first, and up again to the same schema', async () => {
    await migrateAllDown(database.db, sets);
    assert.deepEqual((await tableNames()).filter((n) => !isBookkeeping(n)), [], 'every table is gone');
    for (const owner of ['core', 'test_notes']) {
      const left = await sql<{ name: string }>`select name from ${sql.table(`tessera_migration_${owner}`)}`.execute(database.db);
      assert.deepEqual(left.rows, [], `${owner} has no applied migration left`);
    }

    const applied = await migrateToLatest(database.db, sets);
    assert.equal(applied.length, Object.values(sets).reduce((n, s) => n + Object.keys(s.migrations).length, 0));
    assert.deepEqual(await schemaOf(), EXPECTED);
  });

  it('renames provisioning_target.plugin to provisioner_type and back, keeping the values', async () => {
    const [core] = sets;
    const coreMigrator = new Migrator({ db: database.db, provider: { getMigrations: async () => core!.migrations }, migrationTableName: 'tessera_migration_core', migrationLockTableName: 'tessera_migration_lock_core' });
    await migrateAllDown(database.db, sets);
    const before = await coreMigrator.migrateTo('20261128030000-notifications');
    assert.equal(before.error, undefined);
    const now = new Date().toISOString();
    await sql`insert into co (id, name, description, status, is_platform, created_at, updated_at) values ('co-1', 'One', '', 'active', 0, ${now}, ${now})`.execute(database.db);
    await sql`insert into provisioning_target (id, co_id, plugin, description, mode, ordinal, retry_interval_seconds, max_retries, provision_group_id, config, created_at, updated_at)
      values ('t-1', 'co-1', 'ldap', 'Directory', 'automatic', 10, 60, 10, null, '{}', ${now}, ${now})`.execute(database.db);

    assert.equal((await coreMigrator.migrateTo('20261201000000-provisioner-type')).error, undefined);
    const up = await sql<{ provisioner_type: string }>`select provisioner_type from provisioning_target where id = 't-1'`.execute(database.db);
    assert.deepEqual(up.rows, [{ provisioner_type: 'ldap' }]);

    assert.equal((await coreMigrator.migrateTo('20261128030000-notifications')).error, undefined);
    const down = await sql<{ plugin: string }>`select plugin from provisioning_target where id = 't-1'`.execute(database.db);
    assert.deepEqual(down.rows, [{ plugin: 'ldap' }]);

    await migrateToLatest(database.db, sets);
    assert.deepEqual(await schemaOf(), EXPECTED);
    await database.db.deleteFrom('co').where('id', '=', 'co-1').execute();
  });

  it('ends old sessions, keys local accounts as uids (refusing twins) and scopes API usernames per CO', async () => {
    const [core] = sets;
    const coreMigrator = new Migrator({ db: database.db, provider: { getMigrations: async () => core!.migrations }, migrationTableName: 'tessera_migration_core', migrationLockTableName: 'tessera_migration_lock_core' });
    await migrateAllDown(database.db, sets);
    assert.equal((await coreMigrator.migrateTo('20261202000000-identifier-key')).error, undefined);
    const now = new Date().toISOString();
    const later = new Date(Date.now() + 3_600_000).toISOString();
    await sql`insert into co (id, name, description, status, is_platform, created_at, updated_at) values ('co-1', 'One', '', 'active', 0, ${now}, ${now}), ('co-2', 'Two', '', 'active', 0, ${now}, ${now})`.execute(database.db);
    await sql`insert into web_session (id, username, auth_method, created_at, expires_at, last_seen_at) values ('s-1', 'admin', 'oidc', ${now}, ${later}, ${now})`.execute(database.db);
    await sql`insert into local_account (id, username, password_hash, created_at) values ('a-1', 'Ada', 'h1', ${now}), ('a-2', 'ADA', 'h2', ${now})`.execute(database.db);
    await sql`insert into api_user (id, co_id, username, key_hash, privileged, status, allowed_addresses, created_at) values ('u-1', 'co-1', 'ci', 'sha256:1', 0, 'active', '', ${now})`.execute(database.db);

    const twins = await coreMigrator.migrateTo('20261210000000-sign-in-namespaces');
    assert.match(String((twins.error as Error | undefined)?.message), /local accounts whose usernames are one uid exist.*"Ada", "ADA"/);
    await sql`delete from local_account where id = 'a-2'`.execute(database.db);
    assert.equal((await coreMigrator.migrateTo('20261210010000-api-user-per-co')).error, undefined);
    assert.deepEqual((await sql`select id from web_session`.execute(database.db)).rows, [], 'sessions holding a bare username end');
    assert.deepEqual((await sql`select match_key from local_account`.execute(database.db)).rows, [{ match_key: 'ada' }]);
    await assert.rejects(sql`insert into local_account (id, username, match_key, password_hash, created_at) values ('a-3', 'aDa', 'ada', 'h3', ${now})`.execute(database.db));
    await sql`insert into api_user (id, co_id, username, key_hash, privileged, status, allowed_addresses, created_at) values ('u-2', 'co-2', 'ci', 'sha256:2', 0, 'active', '', ${now})`.execute(database.db);
    await assert.rejects(sql`insert into api_user (id, co_id, username, key_hash, privileged, status, allowed_addresses, created_at) values ('u-3', 'co-2', 'ci', 'sha256:3', 0, 'active', '', ${now})`.execute(database.db), 'unique per CO');
    await assert.rejects(sql`insert into api_user (id, co_id, username, key_hash, privileged, status, allowed_addresses, created_at) values ('u-4', 'co-2', 'cd', 'sha256:1', 0, 'active', '', ${now})`.execute(database.db), 'keys are unique');

    await sql`delete from api_user where id = 'u-2'`.execute(database.db);
    assert.equal((await coreMigrator.migrateTo('20261202000000-identifier-key')).error, undefined, 'and down again');
    await migrateToLatest(database.db, sets);
    assert.deepEqual(await schemaOf(), EXPECTED);
    await database.db.deleteFrom('co').execute();
    await sql`delete from local_account`.execute(database.db);
  });
});
