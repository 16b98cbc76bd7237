import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { RouteContext } from '../http/route-context.ts';
import { requireCoAdmin } from '../web/guards.ts';
import { sendPage } from '../web/render.ts';
import { listCoHistory } from './history.service.ts';
import { CoHistoryPage } from './history.views.tsx';

const PAGE_SIZE = 50;
const historyQuery = z.object({ page: z.coerce.number().int().min(1).max(100000).catch(1).default(1) });

export function registerHistoryRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get<{ Params: { coId: string } }>('/cos/:coId/history', async (request, reply) => {
    const { actor, co } = await requireCoAdmin(ctx, request, request.params.coId);
    const { page } = historyQuery.parse(request.query ?? {});
    // One more than shown, to know whether an older page exists.
    const rows = await listCoHistory(ctx, actor, co.id, { limit: PAGE_SIZE + 1, offset: (page - 1) * PAGE_SIZE });
    return sendPage(ctx, request, reply, (p) => <CoHistoryPage page={p} co={co} entries={rows.slice(0, PAGE_SIZE)} pageNumber={page} hasMore={rows.length > PAGE_SIZE} />);
  });
}
