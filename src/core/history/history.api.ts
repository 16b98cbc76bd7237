import type { FastifyInstance } from 'fastify';
import { apiRoute, coParams } from '../http/api-route.ts';
import type { RouteContext } from '../http/route-context.ts';
import { historyListResponse, historyQuery } from './history.schema.ts';
import { listCoHistory } from './history.service.ts';

export function registerHistoryApi(app: FastifyInstance, ctx: RouteContext): void {
  apiRoute(app, ctx, {
    method: 'GET',
    url: '/api/v1/cos/:coId/history',
    operationId: 'listHistory',
    summary: 'The CO’s history, newest first, optionally of one person or one service (privileged API users)',
    tag: 'History',
    params: coParams,
    query: historyQuery,
    response: historyListResponse,
    co: 'read',
    handler: async ({ actor, query, co }) => {
      const items = await listCoHistory(ctx, actor, co.id, {
        ...(query.personId ? { personId: query.personId } : {}),
        ...(query.serviceId ? { serviceId: query.serviceId } : {}),
        limit: query.pageSize,
        offset: (query.page - 1) * query.pageSize,
      });
      return { items, page: query.page, pageSize: query.pageSize };
    },
  });
}
