// A small plugin used only by tests, to exercise every way a plugin plugs into the registry:
// its own migration (a table), an HTML page and a JSON route, an identity-menu entry, a
// CO-configuration menu entry, a provisioning-data contributor and a change listener that writes
// into its own table inside the transaction of the change.
import { h, type VNode } from 'preact';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { canReadCo } from '../../src/core/auth/actor.ts';
import { AppError } from '../../src/core/errors/app-error.ts';
import { CORE_ERRORS } from '../../src/core/errors/error-codes.ts';
import { apiRoute } from '../../src/core/http/api-route.ts';
import { definePlugin, type TesseraPlugin } from '../../src/core/plugins/plugin.ts';
import { requireCoAccess } from '../../src/core/web/guards.ts';
import { Layout } from '../../src/core/web/layout.views.tsx';
import { sendPage } from '../../src/core/web/render.ts';
import { newId } from '../../src/db/ids.ts';

export const TEST_PLUGIN_ID = 'test-notes';
export const TEST_PLUGIN_MIGRATION = '20261128090000-test-notes';

/** One row per registry change the plugin heard of. */
export type TestNoteTable = {
  id: string;
  co_id: string;
  person_id: string | null;
  kind: string;
  reason: string;
  created_at: string;
};

export type TestNoteTables = {
  test_note: TestNoteTable;
};

const noteResponse = z.object({ kind: z.string(), reason: z.string(), personId: z.string().nullable() });

export const testPlugin: TesseraPlugin = definePlugin<TestNoteTables>({
  id: TEST_PLUGIN_ID,
  description: 'Test notes: writes a note for every registry change (tests only)',
  migrations: {
    [TEST_PLUGIN_MIGRATION]: {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('test_note')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('co_id', 'text', (c) => c.notNull().references('co.id').onDelete('cascade'))
          .addColumn('person_id', 'text')
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('reason', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .execute();
      },
      async down(db: Kysely<unknown>) {
        await db.schema.dropTable('test_note').execute();
      },
    },
  },

  setup: (host) => ({
      routes: (app, ctx) => {
        app.get<{ Params: { coId: string } }>('/test-notes/cos/:coId', async (request, reply) => {
          const { co } = await requireCoAccess(ctx, request, request.params.coId);
          const notes = await host.db.selectFrom('test_note').select('id').where('co_id', '=', co.id).execute();
          return sendPage(ctx, request, reply, (page) => h(Layout, { page, title: `Test notes of ${co.name}`, children: h('p', { class: 'note-count' }, `${notes.length} notes`) }) as VNode);
        });

        apiRoute(app, ctx, {
          method: 'GET',
          url: '/api/v1/cos/:coId/test-notes',
          operationId: 'listTestNotes',
          summary: 'List the test notes of a CO',
          tag: 'Test notes',
          params: z.object({ coId: z.string() }),
          response: z.object({ items: z.array(noteResponse) }),
          handler: async ({ params, actor }) => {
            if (!canReadCo(actor, params.coId)) throw new AppError(CORE_ERRORS.CO_NOT_FOUND);
            const rows = await host.db.selectFrom('test_note').selectAll().where('co_id', '=', params.coId).orderBy('created_at').orderBy('id').execute();
            return { items: rows.map((r) => ({ kind: r.kind, reason: r.reason, personId: r.person_id })) };
          },
        });
      },

      menus: {
        identity: ({ co, personId }) => [{ label: 'Test notes', href: `/test-notes/cos/${co.id}?person=${personId}` }],
        coConfiguration: ({ co }) => [{ label: 'Test note settings', href: `/test-notes/cos/${co.id}/settings` }],
      },

      provisioningData: async (db, data) => {
        const notes = await host.withTables(db).selectFrom('test_note').select('reason').where('co_id', '=', data.co.id).where('person_id', '=', data.person.id).orderBy('created_at').orderBy('id').execute();
        return { personId: data.person.id, reasons: notes.map((n) => n.reason) };
      },

      onChange: async (db, event) => {
        await host.withTables(db)
          .insertInto('test_note')
          .values({
            id: newId(),
            co_id: event.coId,
            person_id: 'personId' in event ? event.personId : null,
            kind: event.kind,
            reason: event.reason,
            created_at: host.clock.now().toISOString(),
          })
          .execute();
      },
  }),
});
