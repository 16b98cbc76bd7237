import type { FastifyInstance } from 'fastify';
import { coParams, reachableCo } from '../cos/co.api.ts';
import { apiRoute } from '../http/openapi.ts';
import type { RouteContext } from '../http/route-context.ts';
import { historyListResponse, historyQuery } from './history.schema.ts';
import { listCoHistory } from './history.service.ts';

export function registerHistoryApi(app: FastifyInstance, ctx: RouteContext): void {
  apiRoute(app, ctx.openapi, {
    method: 'GET',
    url: '/api/v1/cos/:coId/history',
    operationId: 'listHistory',
    summary: 'The CO’s history, newest first, optionally of one person or one service (privileged API users)',
    tag: 'History',
    params: coParams,
    query: historyQuery,
    response: historyListResponse,
    handler: async ({ actor, params, query }) => {
      await reachableCo(ctx, actor, params.coId);
      const items = await listCoHistory(ctx, actor, params.coId, {
        ...(query.personId ? { personId: query.personId } : {}),
        ...(query.serviceId ? { serviceId: query.serviceId } : {}),
        limit: query.pageSize,
        offset: (query.page - 1) * query.pageSize,
      });
      return { items, page: query.page, pageSize: query.pageSize };
    },
  });
}
