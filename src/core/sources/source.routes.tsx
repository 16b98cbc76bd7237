import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { RouteContext } from '../http/route-context.ts';
import { emptyForm, type FormState } from '../web/components.views.tsx';
import { postedString, postedValues, submitForm } from '../web/forms.ts';
import { requireCoAdmin } from '../web/guards.ts';
import { redirectWith, sendPage } from '../web/render.ts';
import { finaliseSource, terminateSource } from './source-lifecycle.service.ts';
import { sourceName } from './source.schema.ts';
import { addSource, describeSource, getSource, listSources, runSource, sourceSettings, updateSourceSettings } from './source.service.ts';
import { SourceNewPage, SourcePage, SourceSettingsPage, SourcesPage, SourceTerminatePage } from './source.views.tsx';

type CoRoute = { Params: { coId: string } };
type SourceRoute = { Params: { coId: string; sourceId: string } };

/** The form of a new COmanage SQL source; the kind checks the settings again (comanage-sql.kind.ts). */
const comanageForm = z.object({
  name: sourceName,
  databaseUrl: z.string().trim().min(1, 'A database URL is needed'),
  prefix: z.string().trim().optional(),
  layout: z.enum(['v4', 'v5']).default('v4'),
});

/** The settings form of a COmanage SQL source: an empty URL keeps the current one. */
const comanageSettingsForm = z.object({
  databaseUrl: z.string().trim().optional(),
  prefix: z.string().trim().min(1, 'A table prefix is needed'),
  layout: z.enum(['v4', 'v5']),
});

/**
 * The Sources pages of a CO (its administrators): list, add, a source's page with "Run now", a
 * full run and a dry run (its diff shown on the page), finalise, and terminate after a
 * confirmation step. Every change is a POST with the CSRF token. A run started here goes on in
 * the background; the source's page shows its progress and reloads until it ends.
 */
export function registerSourceRoutes(app: FastifyInstance, ctx: RouteContext): void {
  async function showNew(request: FastifyRequest, reply: FastifyReply, coId: string, form: FormState, status = 200) {
    const { co } = await requireCoAdmin(ctx, request, coId);
    return sendPage(ctx, request, reply, (page) => <SourceNewPage page={page} co={co} form={form} />, status);
  }

  app.get<CoRoute>('/cos/:coId/sources', async (request, reply) => {
    const { actor, co } = await requireCoAdmin(ctx, request, request.params.coId);
    const sources = await Promise.all((await listSources(ctx, actor, co.id)).map(async (s) => ({ ...s, described: await describeSource(ctx, s) })));
    return sendPage(ctx, request, reply, (page) => <SourcesPage page={page} co={co} sources={sources} />);
  });

  app.get<CoRoute>('/cos/:coId/sources/new', async (request, reply) => showNew(request, reply, request.params.coId, emptyForm({ prefix: 'sp_', layout: 'v4' })));

  app.post<CoRoute>('/cos/:coId/sources', async (request, reply) => {
    const { actor, co } = await requireCoAdmin(ctx, request, request.params.coId);
    const values = postedValues(request);
    const outcome = await submitForm(comanageForm, values, (input) =>
      addSource(ctx, actor, co.id, { kind: 'comanage-sql', name: input.name, settings: { databaseUrl: input.databaseUrl, prefix: input.prefix || 'sp_', layout: input.layout } }),
    );
    // The URL holds a password: it is never sent back in the re-rendered form.
    if (!outcome.ok) return showNew(request, reply, co.id, { ...outcome.form, values: { ...values, databaseUrl: '' } }, outcome.status);
    return redirectWith(reply, `/cos/${co.id}/sources/${outcome.value.id}`, { kind: 'success', message: `Source ${outcome.value.name} added. Try a dry run first.` });
  });

  async function showSettings(request: FastifyRequest, reply: FastifyReply, coId: string, sourceId: string, form?: FormState, status = 200) {
    const { actor, co } = await requireCoAdmin(ctx, request, coId);
    const source = await getSource(ctx, actor, co.id, sourceId);
    const current = await sourceSettings(ctx, source);
    const shown = form ?? emptyForm({ prefix: String(current.prefix ?? ''), layout: String(current.layout ?? 'v4') });
    return sendPage(ctx, request, reply, (page) => <SourceSettingsPage page={page} co={co} source={source} form={shown} />, status);
  }

  app.get<SourceRoute>('/cos/:coId/sources/:sourceId/settings', async (request, reply) => showSettings(request, reply, request.params.coId, request.params.sourceId));

  app.post<SourceRoute>('/cos/:coId/sources/:sourceId/settings', async (request, reply) => {
    const { actor, co } = await requireCoAdmin(ctx, request, request.params.coId);
    const source = await getSource(ctx, actor, co.id, request.params.sourceId);
    const values = postedValues(request);
    const outcome = await submitForm(comanageSettingsForm, values, (input) =>
      updateSourceSettings(ctx, actor, co.id, source.id, { ...(input.databaseUrl ? { databaseUrl: input.databaseUrl } : {}), prefix: input.prefix, layout: input.layout }),
    );
    // The URL holds a password: it is never sent back in the re-rendered form.
    if (!outcome.ok) return showSettings(request, reply, co.id, source.id, { ...outcome.form, values: { ...values, databaseUrl: '' } }, outcome.status);
    return redirectWith(reply, `/cos/${co.id}/sources/${source.id}`, { kind: 'success', message: `Settings of ${source.name} saved.` });
  });

  app.get<SourceRoute>('/cos/:coId/sources/:sourceId', async (request, reply) => {
    const { actor, co } = await requireCoAdmin(ctx, request, request.params.coId);
    const source = await getSource(ctx, actor, co.id, request.params.sourceId);
    const described = await describeSource(ctx, source);
    return sendPage(ctx, request, reply, (page) => <SourcePage page={page} co={co} source={source} described={described} />);
  });

  app.post<SourceRoute>('/cos/:coId/sources/:sourceId/run', async (request, reply) => {
    const { actor, co } = await requireCoAdmin(ctx, request, request.params.coId);
    const source = await getSource(ctx, actor, co.id, request.params.sourceId);
    const mode = postedString(postedValues(request), 'mode');
    if (mode === 'dry-run') {
      let dry;
      try {
        dry = await runSource(ctx, actor, co.id, source.id, { dryRun: true, full: true });
      } catch (error) {
        return redirectWith(reply, `/cos/${co.id}/sources/${source.id}`, { kind: 'error', message: error instanceof Error ? error.message : String(error) });
      }
      const described = await describeSource(ctx, source);
      return sendPage(ctx, request, reply, (page) => <SourcePage page={page} co={co} source={source} described={described} dryRun={{ counts: dry.counts, diff: dry.diff }} />);
    }
    // The run goes on after this answer; its progress, counts and errors are kept on the source.
    void runSource(ctx, actor, co.id, source.id, { full: mode === 'full' }).catch((error: unknown) => {
      ctx.logger.warn({ source: source.name, coId: co.id, err: error instanceof Error ? error.message : String(error) }, 'source run failed');
    });
    return redirectWith(reply, `/cos/${co.id}/sources/${source.id}`, { kind: 'success', message: `Run of ${source.name} started; this page shows its progress.` });
  });

  app.post<SourceRoute>('/cos/:coId/sources/:sourceId/finalise', async (request, reply) => {
    const { actor, co } = await requireCoAdmin(ctx, request, request.params.coId);
    const source = await getSource(ctx, actor, co.id, request.params.sourceId);
    const counts = await finaliseSource(ctx, actor, co.id, source.id);
    return redirectWith(reply, `/cos/${co.id}/sources/${source.id}`, { kind: 'success', message: `Source ${source.name} finalised: Tessera now owns ${counts.co_person} people and ${counts.co_group} groups.` });
  });

  async function showTerminate(request: FastifyRequest, reply: FastifyReply, coId: string, sourceId: string, error?: string) {
    const { actor, co } = await requireCoAdmin(ctx, request, coId);
    const source = await getSource(ctx, actor, co.id, sourceId);
    const count = async (table: 'co_person' | 'co_group') =>
      Number((await ctx.db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).where('co_id', '=', co.id).where('source_id', '=', source.id).executeTakeFirstOrThrow()).n);
    const [people, groups] = [await count('co_person'), await count('co_group')];
    return sendPage(ctx, request, reply, (page) => <SourceTerminatePage page={page} co={co} source={source} people={people} groups={groups} {...(error ? { error } : {})} />, error ? 400 : 200);
  }

  app.get<SourceRoute>('/cos/:coId/sources/:sourceId/terminate', async (request, reply) => showTerminate(request, reply, request.params.coId, request.params.sourceId));

  app.post<SourceRoute>('/cos/:coId/sources/:sourceId/terminate', async (request, reply) => {
    const { actor, co } = await requireCoAdmin(ctx, request, request.params.coId);
    const source = await getSource(ctx, actor, co.id, request.params.sourceId);
    if (postedString(postedValues(request), 'confirm') !== 'yes') return showTerminate(request, reply, co.id, source.id, 'Tick the box to confirm that these people and groups are removed.');
    const r = await terminateSource(ctx, actor, co.id, source.id);
    return redirectWith(reply, `/cos/${co.id}/sources`, { kind: 'success', message: `Source ${source.name} terminated: ${r.people} people, ${r.groups} groups and ${r.memberships} memberships removed.` });
  });
}
