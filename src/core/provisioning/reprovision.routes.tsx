import type { FastifyInstance } from 'fastify';
import { getPerson } from '../people/person.service.ts';
import type { RouteContext } from '../http/route-context.ts';
import { postedValues } from '../web/forms.ts';
import { requireCoAdmin } from '../web/guards.ts';
import { redirectWith, sendPage } from '../web/render.ts';
import { batchProgress, personProvisioningStates, requestReprovision } from './provisioning.service.ts';
import { BatchProgressPage, PersonProvisioningPage } from './reprovision.views.tsx';

type CoRoute = { Params: { coId: string } };
type PersonRoute = { Params: { coId: string; personId: string } };

/** How long the progress page waits before it reloads itself (the `Refresh` header; no script). */
const PROGRESS_REFRESH_SECONDS = 2;

/**
 * Reprovisioning by hand, for CO admins: a whole CO (or one target) with a self-refreshing
 * progress page, and one person from their provisioning page.
 */
export function registerReprovisionRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.post<CoRoute>('/cos/:coId/reprovision', async (request, reply) => {
    const { actor, co } = await requireCoAdmin(ctx, request, request.params.coId);
    const values = postedValues(request);
    const targetId = typeof values.targetId === 'string' && values.targetId !== '' ? values.targetId : undefined;
    const batch = await requestReprovision(ctx, actor, co.id, targetId ? { targetId } : {});
    if (batch.total === 0) return redirectWith(reply, `/cos/${co.id}/provisioning-targets`, { kind: 'info', message: 'Nothing to reprovision: the CO has no people or no enabled targets.' });
    ctx.nudgeWorker();
    return redirectWith(reply, `/cos/${co.id}/reprovision/${batch.batchId}`, { kind: 'success', message: `Reprovisioning requested: ${batch.total} job(s).` });
  });

  app.get<{ Params: { coId: string; batchId: string } }>('/cos/:coId/reprovision/:batchId', async (request, reply) => {
    const { actor, co } = await requireCoAdmin(ctx, request, request.params.coId);
    const batch = await batchProgress(ctx, actor, co.id, request.params.batchId);
    if (batch.pending > 0) reply.header('Refresh', String(PROGRESS_REFRESH_SECONDS));
    const scope = `${batch.total} job(s), one for each person and target.`;
    return sendPage(ctx, request, reply, (page) => <BatchProgressPage page={page} co={co} batch={batch} scope={scope} />);
  });

  app.get<PersonRoute>('/cos/:coId/people/:personId/provisioning', async (request, reply) => {
    const { actor, co } = await requireCoAdmin(ctx, request, request.params.coId);
    const person = await getPerson(ctx, actor, co.id, request.params.personId);
    const states = await personProvisioningStates(ctx, actor, co.id, person.id);
    return sendPage(ctx, request, reply, (page) => <PersonProvisioningPage page={page} co={co} person={person} states={states} />);
  });

  app.post<PersonRoute>('/cos/:coId/people/:personId/provisioning/reprovision', async (request, reply) => {
    const { actor, co } = await requireCoAdmin(ctx, request, request.params.coId);
    const person = await getPerson(ctx, actor, co.id, request.params.personId);
    const batch = await requestReprovision(ctx, actor, co.id, { personId: person.id });
    ctx.nudgeWorker();
    return redirectWith(reply, `/cos/${co.id}/people/${person.id}/provisioning`, { kind: 'success', message: `Reprovisioning of ${person.displayName} requested: ${batch.total} job(s).` });
  });
}
