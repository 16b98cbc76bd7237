import type { FastifyInstance } from 'fastify';
import { apiRoute, coParams } from '../http/api-route.ts';
import type { RouteContext } from '../http/route-context.ts';
import type { SourceDiff } from './source-reconcile.ts';
import { finaliseSource, terminateSource } from './source-lifecycle.service.ts';
import { sourceAddInput, sourceSettingsInput, sourceFinaliseResponse, sourceListResponse, sourceResponse, sourceRunInput, sourceRunResponse, sourceTerminateInput, sourceTerminateResponse } from './source.schema.ts';
import { addSource, describeSource, getSource, listSources, runSource, updateSourceSettings, type Source } from './source.service.ts';
import { z } from 'zod';

const SOURCES = '/api/v1/cos/:coId/sources';
const sourceParams = coParams.extend({ sourceId: z.string().min(1).max(64) });

/** A source as the API shows it: settings described by its kind, secrets hidden. */
export async function presentSource(ctx: RouteContext, s: Source) {
  return {
    id: s.id, coId: s.coId, kind: s.kind, name: s.name, settings: await describeSource(ctx, s), status: s.status,
    lastRunAt: s.lastRunAt, lastFullRunAt: s.lastFullRunAt, lastRunCounts: s.lastRunCounts, lastError: s.lastError, progress: s.progress, createdAt: s.createdAt,
  };
}

/** The diff with each list cut to `limit` items (counts stay whole in `counts`). */
export function cutDiff(diff: SourceDiff, limit = 1000): SourceDiff {
  const cut = <T>(xs: T[]) => xs.slice(0, limit);
  return {
    people: { added: cut(diff.people.added), changed: cut(diff.people.changed), suspended: cut(diff.people.suspended), unchanged: diff.people.unchanged },
    groups: { added: cut(diff.groups.added), changed: cut(diff.groups.changed), removed: cut(diff.groups.removed), unchanged: diff.groups.unchanged },
    memberships: { added: cut(diff.memberships.added), changed: cut(diff.memberships.changed), removed: cut(diff.memberships.removed), unchanged: diff.memberships.unchanged },
  };
}

/** Sources under /api/v1/cos/:coId/sources (CO admins: privileged API users). `:sourceId` is an id or a name. */
export function registerSourceApi(app: FastifyInstance, ctx: RouteContext): void {
  const tag = 'Sources';
  apiRoute(app, ctx, {
    method: 'GET', url: SOURCES, operationId: 'listSources', summary: 'List the CO’s sources with status, last run, counts and last error', tag,
    params: coParams, response: sourceListResponse, co: 'admin',
    handler: async ({ actor, co }) => ({ items: await Promise.all((await listSources(ctx, actor, co.id)).map((s) => presentSource(ctx, s))) }),
  });
  apiRoute(app, ctx, {
    method: 'POST', url: SOURCES, operationId: 'addSource', summary: 'Add a source (e.g. kind comanage-sql with settings databaseUrl, prefix, layout); settings are stored encrypted', tag,
    params: coParams, body: sourceAddInput, response: sourceResponse, status: 201, errors: [409], co: 'admin',
    handler: async ({ actor, co, body }) => presentSource(ctx, await addSource(ctx, actor, co.id, body)),
  });
  apiRoute(app, ctx, {
    method: 'GET', url: `${SOURCES}/:sourceId`, operationId: 'getSource', summary: 'Read a source, with the progress of a run under way', tag,
    params: sourceParams, response: sourceResponse, co: 'admin',
    handler: async ({ actor, co, params }) => presentSource(ctx, await getSource(ctx, actor, co.id, params.sourceId)),
  });
  apiRoute(app, ctx, {
    method: 'PATCH', url: `${SOURCES}/:sourceId`, operationId: 'updateSourceSettings', summary: 'Change some of a source\'s settings (e.g. a new databaseUrl); the others are kept; stored encrypted', tag,
    params: sourceParams, body: sourceSettingsInput, response: sourceResponse, errors: [422], co: 'admin',
    handler: async ({ actor, co, params, body }) => {
      const source = await getSource(ctx, actor, co.id, params.sourceId);
      return presentSource(ctx, await updateSourceSettings(ctx, actor, co.id, source.id, body.settings));
    },
  });
  apiRoute(app, ctx, {
    method: 'POST', url: `${SOURCES}/:sourceId/runs`, operationId: 'runSource', summary: 'Run a source (full or incremental), or dry-run it to see the diff without writing', tag,
    params: sourceParams, body: sourceRunInput, response: sourceRunResponse, errors: [409, 422], co: 'admin',
    handler: async ({ actor, co, params, body }) => {
      const source = await getSource(ctx, actor, co.id, params.sourceId);
      const result = await runSource(ctx, actor, co.id, source.id, body);
      return { counts: result.counts, diff: cutDiff(result.diff), skipped: result.skipped.slice(0, 1000) };
    },
  });
  apiRoute(app, ctx, {
    method: 'POST', url: `${SOURCES}/:sourceId/finalise`, operationId: 'finaliseSource', summary: 'Make Tessera the owner of what the source brought in; the source stops', tag,
    params: sourceParams, response: sourceFinaliseResponse, co: 'admin',
    handler: async ({ actor, co, params }) => {
      const source = await getSource(ctx, actor, co.id, params.sourceId);
      return { counts: await finaliseSource(ctx, actor, co.id, source.id) };
    },
  });
  apiRoute(app, ctx, {
    method: 'POST', url: `${SOURCES}/:sourceId/terminate`, operationId: 'terminateSource', summary: 'Remove what the source brought in (body {"confirm": true}); the source stops', tag,
    params: sourceParams, body: sourceTerminateInput, response: sourceTerminateResponse, co: 'admin',
    handler: async ({ actor, co, params }) => {
      const source = await getSource(ctx, actor, co.id, params.sourceId);
      return terminateSource(ctx, actor, co.id, source.id);
    },
  });
}
