import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { SYSTEM_ACTOR } from '../auth/actor.ts';
import { publishChange } from '../context.ts';
import { buildApp, type TesseraApp } from '../../app/http-app.ts';
import { createRegistry } from '../../app/registry.ts';
import { createLogger } from '../logging/logger.ts';
import { createPerson, setPersonStatus } from '../people/person.service.ts';
import { buildProvisioningData } from '../provisioning/provisioning-data.ts';
import { migrateToLatest, migrationSets } from '../../db/migrator.ts';
import {
  actorFor,
  buildApiUser,
  buildCo,
  buildPerson,
  createTestApp,
  forEachDialect,
  signIn,
  testConfig,
  type TestApp,
} from '../../../test/support/test-app.ts';
import { TEST_PLUGIN_ID, TEST_PLUGIN_MIGRATION, testPlugin, type TestNoteTables } from '../../../test/support/test-plugin.ts';
import { resolvePlugins, type TesseraPlugin } from './plugin.ts';

const plugin = (id: string, requires?: string[]): TesseraPlugin => ({ id, description: id, ...(requires ? { requires } : {}), setup: () => ({}) });

describe('resolvePlugins', () => {
  const base = plugin('base');
  const extra = plugin('extra', ['base']);
  const top = plugin('top', ['extra', 'base']);
  const available = [base, extra, top];

  it('returns the enabled plugins in the configured order, each once', () => {
    assert.deepEqual(resolvePlugins(available, []), []);
    assert.deepEqual(resolvePlugins(available, ['base', 'extra', 'top']).map((p) => p.id), ['base', 'extra', 'top']);
    assert.deepEqual(resolvePlugins(available, ['base', 'base', 'extra']).map((p) => p.id), ['base', 'extra']);
  });

  it('fails on an unknown plugin, naming it and the known ones', () => {
    assert.throws(() => resolvePlugins(available, ['base', 'nope']), {
      message: 'Unknown plugin "nope" in TESSERA_PLUGINS; known plugins: base, extra, top',
    });
    assert.throws(() => resolvePlugins([], ['anything']), { message: /Unknown plugin "anything".*\(none\)/ });
  });

  it('fails when a required plugin is not enabled, naming both', () => {
    assert.throws(() => resolvePlugins(available, ['extra']), {
      message: 'Plugin "extra" needs plugin "base", which is not enabled; add "base" to TESSERA_PLUGINS before "extra"',
    });
    assert.throws(() => resolvePlugins(available, ['base', 'top']), { message: /Plugin "top" needs plugin "extra"/ });
    // A requirement nobody provides at all fails the same way.
    assert.throws(() => resolvePlugins([plugin('lonely', ['ghost'])], ['lonely']), { message: /Plugin "lonely" needs plugin "ghost", which is not enabled/ });
  });

  it('fails when a required plugin comes later, since plugins migrate and run in the configured order', () => {
    assert.throws(() => resolvePlugins(available, ['extra', 'base']), {
      message: 'Plugin "extra" needs plugin "base", which must come before it; list "base" before "extra" in TESSERA_PLUGINS',
    });
  });
});

forEachDialect('Plugin mechanism', (dialect) => {
  let t: TestApp;
  let bare: TesseraApp;
  before(async () => {
    t = await createTestApp({ dialect, plugins: [testPlugin] });
    // The same database, served by an app that does not enable the plugin.
    bare = await buildApp(createRegistry({ config: testConfig(), database: t.database, plugins: [], clock: t.clock, logger: createLogger(false) }));
    await bare.app.ready();
  });
  after(async () => {
    await bare.app.close();
    await t.close();
  });

  it("runs the plugin's migration and tracks it in the plugin's own table", async () => {
    const tables = (await t.ctx.db.introspection.getTables()).map((tb) => tb.name);
    assert.ok(tables.includes('test_note'));
    assert.ok(tables.includes('tessera_migration_test_notes'));
    const tracked = await sql<{ name: string }>`select name from tessera_migration_test_notes`.execute(t.ctx.db);
    assert.deepEqual(tracked.rows.map((r) => r.name), [TEST_PLUGIN_MIGRATION]);
    const core = await sql<{ name: string }>`select name from tessera_migration_core`.execute(t.ctx.db);
    assert.ok(core.rows.length > 0);
    assert.ok(core.rows.every((r) => !r.name.includes('test-notes')), 'the core table tracks core migrations only');
    // Migrating again applies nothing.
    assert.deepEqual(await migrateToLatest(t.ctx.db, migrationSets([testPlugin])), []);
  });

  it('hears every change inside its transaction, so its row commits with the change', async () => {
    const co = await buildCo(t);
    const person = await buildPerson(t, co.id);
    await setPersonStatus(t.ctx, SYSTEM_ACTOR, co.id, person.id, 'suspended');
    const notes = await t.db.withTables<TestNoteTables>().selectFrom('test_note').select(['kind', 'reason', 'person_id']).where('co_id', '=', co.id).orderBy('created_at').orderBy('reason').execute();
    assert.deepEqual(
      new Set(notes.map((n) => `${n.kind}:${n.reason}:${n.person_id}`)),
      new Set([`person:created:${person.id}`, `person:PERSON_STATUS_CHANGED:${person.id}`]),
    );
  });

  it("rolls its row back with the change when the change's transaction fails", async () => {
    const co = await buildCo(t);
    const failing = async (): Promise<void> => {
      throw new Error('a later listener fails');
    };
    t.ctx.changeListeners.push(failing);
    try {
      await assert.rejects(
        createPerson(t.ctx, SYSTEM_ACTOR, co.id, { status: 'active', name: { given: 'Never', family: 'Stored' }, identifiers: [], emails: [] }),
        { message: 'a later listener fails' },
      );
    } finally {
      t.ctx.changeListeners.splice(t.ctx.changeListeners.indexOf(failing), 1);
    }
    assert.deepEqual(await t.ctx.db.selectFrom('co_person').select('id').where('co_id', '=', co.id).execute(), [], 'the person was not created');
    assert.deepEqual(await t.db.withTables<TestNoteTables>().selectFrom('test_note').select('id').where('co_id', '=', co.id).execute(), [], "nor the plugin's note");

    // The same with a transaction of our own that publishes a change and then fails.
    await assert.rejects(
      t.ctx.db.transaction().execute(async (trx) => {
        await publishChange(t.ctx, trx, { kind: 'group', coId: co.id, groupId: 'g', reason: 'doomed' });
        assert.equal((await trx.withTables<TestNoteTables>().selectFrom('test_note').select('id').where('reason', '=', 'doomed').execute()).length, 1, 'written inside the transaction');
        throw new Error('roll back');
      }),
      { message: 'roll back' },
    );
    assert.deepEqual(await t.db.withTables<TestNoteTables>().selectFrom('test_note').select('id').where('reason', '=', 'doomed').execute(), []);
  });

  it('serves its HTML page and JSON route only when enabled', async () => {
    const co = await buildCo(t);
    const person = await buildPerson(t, co.id);
    const browser = await signIn(t, person.username);
    const api = await buildApiUser(t, co.id, false);

    const page = await t.app.inject({ method: 'GET', url: `/test-notes/cos/${co.id}`, headers: browser.headers });
    assert.equal(page.statusCode, 200);
    assert.match(page.headers['content-type'] as string, /^text\/html/);
    assert.match(page.body, /<p class="note-count">1 notes<\/p>/);
    const json = await t.app.inject({ method: 'GET', url: `/api/v1/cos/${co.id}/test-notes`, headers: { authorization: api.authorization } });
    assert.equal(json.statusCode, 200);
    assert.deepEqual(json.json(), { items: [{ kind: 'person', reason: 'created', personId: person.id }] });
    // The plugin's route sits behind the core's authentication like any other.
    assert.equal((await t.app.inject({ method: 'GET', url: `/api/v1/cos/${co.id}/test-notes` })).statusCode, 401);
    const stranger = await buildApiUser(t, (await buildCo(t)).id, true);
    assert.equal((await t.app.inject({ method: 'GET', url: `/api/v1/cos/${co.id}/test-notes`, headers: { authorization: stranger.authorization } })).statusCode, 404);
    const spec = (await t.app.inject({ method: 'GET', url: '/api/openapi.json' })).json() as { paths: Record<string, unknown> };
    assert.ok(spec.paths['/api/v1/cos/{coId}/test-notes'], 'the route is in the OpenAPI document');

    const barePage = await bare.app.inject({ method: 'GET', url: `/test-notes/cos/${co.id}`, headers: browser.headers });
    assert.equal(barePage.statusCode, 404);
    const bareJson = await bare.app.inject({ method: 'GET', url: `/api/v1/cos/${co.id}/test-notes`, headers: { authorization: api.authorization } });
    assert.equal(bareJson.statusCode, 404);
    assert.equal((bareJson.json() as { error: { code: string } }).error.code, 'NOT_FOUND');
    const bareSpec = (await bare.app.inject({ method: 'GET', url: '/api/openapi.json' })).json() as { paths: Record<string, unknown> };
    assert.equal(bareSpec.paths['/api/v1/cos/{coId}/test-notes'], undefined);
  });

  it('puts its identity-menu entry once per CO the person is in', async () => {
    const a = await buildCo(t, `Alpha ${Date.now()}`);
    const b = await buildCo(t, `Beta ${Date.now()}`);
    const c = await buildCo(t, `Gamma ${Date.now()}`);
    const username = `menu-${Date.now()}`;
    const inA = await buildPerson(t, a.id, { username });
    const inB = await buildPerson(t, b.id, { username });
    await buildPerson(t, c.id);
    const browser = await signIn(t, username);

    const res = await t.app.inject({ method: 'GET', url: `/test-notes/cos/${a.id}`, headers: browser.headers });
    assert.equal(res.statusCode, 200);
    const count = (needle: string) => res.body.split(needle).length - 1;
    assert.equal(count(`href="/test-notes/cos/${a.id}?person=${inA.id}"`), 1);
    assert.equal(count(`href="/test-notes/cos/${b.id}?person=${inB.id}"`), 1);
    assert.equal(count(`href="/test-notes/cos/${c.id}`), 0, 'not for a CO the person is not in');
    assert.equal(count('>Test notes → '), 2);
    assert.ok(res.body.includes(`Test notes → ${a.name}`) && res.body.includes(`Test notes → ${b.name}`));

    // A person of C cannot open the page of A.
    const other = await signIn(t, (await buildPerson(t, c.id)).username);
    assert.equal((await t.app.inject({ method: 'GET', url: `/test-notes/cos/${a.id}`, headers: other.headers })).statusCode, 404);
    // The app without the plugin shows no such entry.
    const bareHome = await bare.app.inject({ method: 'GET', url: '/sign-in', headers: browser.headers });
    assert.equal(bareHome.body.includes('/test-notes/'), false);
  });

  it('offers its CO-configuration entry to the core, for the CO', async () => {
    const co = await buildCo(t);
    const admin = await buildPerson(t, co.id, { admin: true });
    const actor = await actorFor(t, admin.username);
    const entries = t.ctx.menus.coConfiguration({ co, actor });
    assert.deepEqual(entries, [{ label: 'Test note settings', href: `/test-notes/cos/${co.id}/settings` }]);
    assert.deepEqual(bare.ctx.menus.coConfiguration({ co, actor }), []);
  });

  it('adds its part to the provisioning data, under its id', async () => {
    const co = await buildCo(t);
    const person = await buildPerson(t, co.id);
    t.clock.advance(1000);
    await setPersonStatus(t.ctx, SYSTEM_ACTOR, co.id, person.id, 'grace_period');
    const data = await buildProvisioningData(t.ctx.db, t.ctx.clock, t.registry.contributors, co.id, person.id);
    assert.ok(data);
    assert.equal(data.person.id, person.id);
    assert.deepEqual(Object.keys(data.plugins), [TEST_PLUGIN_ID]);
    assert.deepEqual(data.plugins[TEST_PLUGIN_ID], { personId: person.id, reasons: ['created', 'PERSON_STATUS_CHANGED'] });
    const without = await buildProvisioningData(t.ctx.db, bare.ctx.clock, bare.registry.contributors, co.id, person.id);
    assert.deepEqual(without?.plugins, {});
  });
});
