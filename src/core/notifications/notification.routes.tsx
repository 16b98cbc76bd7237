import type { FastifyInstance } from 'fastify';
import { findCo } from '../cos/co.repository.ts';
import type { RouteContext } from '../http/route-context.ts';
import { requireCoAdmin, requirePerson } from '../web/guards.ts';
import { redirectWith, sendPage } from '../web/render.ts';
import { deliveryFailures, listMyNotifications, markRead, retryEmail } from './notification.service.ts';
import { CoFailuresPage, MyNotificationsPage } from './notification.views.tsx';
import { coTargetFailures } from '../provisioning/provisioning.service.ts';

export function registerNotificationRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get('/notifications', async (request, reply) => {
    const actor = requirePerson(request);
    const notifications = await listMyNotifications(ctx.db, actor);
    const coNames: Record<string, string> = {};
    for (const coId of new Set(notifications.map((n) => n.coId))) coNames[coId] = (await findCo(ctx.db, coId))?.name ?? '';
    return sendPage(ctx, request, reply, (page) => <MyNotificationsPage page={page} notifications={notifications} coNames={coNames} />);
  });

  app.post('/notifications/read', async (request, reply) => {
    await markRead(ctx.db, ctx.clock, requirePerson(request));
    return redirectWith(reply, '/notifications');
  });

  app.post<{ Params: { id: string } }>('/notifications/:id/read', async (request, reply) => {
    await markRead(ctx.db, ctx.clock, requirePerson(request), request.params.id);
    return redirectWith(reply, '/notifications');
  });

  app.get<{ Params: { coId: string } }>('/cos/:coId/failures', async (request, reply) => {
    const { actor, co } = await requireCoAdmin(ctx, request, request.params.coId);
    const emails = await deliveryFailures(ctx.db, actor, co.id);
    const jobs = await coTargetFailures(ctx, actor, co.id);
    return sendPage(ctx, request, reply, (page) => <CoFailuresPage page={page} co={co} emails={emails} jobs={jobs} mailEnabled={ctx.mailEnabled} />);
  });

  app.post<{ Params: { coId: string; emailId: string } }>('/cos/:coId/failures/emails/:emailId/retry', async (request, reply) => {
    const { actor, co } = await requireCoAdmin(ctx, request, request.params.coId);
    await retryEmail(ctx.db, ctx.clock, actor, co.id, request.params.emailId);
    return redirectWith(reply, `/cos/${co.id}/failures`, { kind: 'success', message: 'The email will be sent again.' });
  });
}
