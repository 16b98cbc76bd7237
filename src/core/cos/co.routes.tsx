import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Actor } from '../auth/actor.ts';
import type { RouteContext } from '../http/route-context.ts';
import { emptyForm, type FormState } from '../web/components.views.tsx';
import { postedValues, submitForm } from '../web/forms.ts';
import { requireCoAccess, requirePerson, requirePlatformAdmin } from '../web/guards.ts';
import { redirectWith, sendPage } from '../web/render.ts';
import { AppError } from '../errors/app-error.ts';
import { CORE_ERRORS } from '../errors/error-codes.ts';
import { coInput, coUpdate } from './co.schema.ts';
import { createCo, listCos, updateCo, type Co } from './co.service.ts';
import { CoDashboardPage, CoEditPage, CoListPage, type DashboardEntry } from './co.views.tsx';

type CoRoute = { Params: { coId: string } };

/** The CO configuration menu: the core's entries, then what plugins add. */
function configurationMenu(ctx: RouteContext, co: Co, actor: Actor): DashboardEntry[] {
  const base = `/cos/${co.id}`;
  return [
    { label: 'CO People', href: `${base}/people`, description: 'Find, add and change the people of the CO' },
    { label: 'Groups', href: `${base}/groups`, description: 'Groups and their members' },
    { label: 'CO Services', href: `${base}/services`, description: 'The services this CO runs' },
    { label: 'API users', href: `${base}/api-users`, description: 'Credentials for the REST API' },
    { label: 'Sources', href: `${base}/sources`, description: 'Registries people and groups come from (COmanage Registry)' },
    { label: 'Provisioning targets', href: `${base}/provisioning-targets`, description: 'Directories the CO’s people are provisioned to' },
    { label: 'Identifier types', href: `${base}/identifier-types`, description: 'Kinds of identifiers people have' },
    { label: 'History', href: `${base}/history`, description: 'Every change in the CO' },
    { label: 'Failures', href: `${base}/failures`, description: 'Provisioning jobs and emails that are failing' },
    ...ctx.menus.coConfiguration({ co, actor }),
  ];
}

export function registerCoRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const listPage = async (request: FastifyRequest, reply: FastifyReply, form: FormState, status = 200) => {
    const actor = requirePerson(request);
    const cos = await listCos(ctx.db, actor);
    return sendPage(ctx, request, reply, (page) => <CoListPage page={page} cos={cos} canCreate={actor.platformAdmin} form={form} />, status);
  };

  app.get('/cos', async (request, reply) => listPage(request, reply, emptyForm()));

  app.post('/cos', async (request, reply) => {
    const actor = requirePlatformAdmin(request);
    const outcome = await submitForm(coInput, postedValues(request), (input) => createCo(ctx, actor, input));
    if (!outcome.ok) return listPage(request, reply, outcome.form, outcome.status);
    return redirectWith(reply, `/cos/${outcome.value.id}`, { kind: 'success', message: `CO ${outcome.value.name} created.` });
  });

  app.get<CoRoute>('/cos/:coId', async (request, reply) => {
    const { actor, co, admin } = await requireCoAccess(ctx, request, request.params.coId);
    const myPersonId = actor.personIds[co.id];
    const mine = myPersonId ? ctx.menus.identity({ co, personId: myPersonId, actor }) : [];
    return sendPage(ctx, request, reply, (page) => (
      <CoDashboardPage
        page={page}
        co={co}
        admin={admin}
        platformAdmin={actor.platformAdmin}
        myPersonId={myPersonId}
        configuration={admin ? configurationMenu(ctx, co, actor) : []}
        mine={mine}
      />
    ));
  });

  const editAccess = async (request: FastifyRequest, coId: string) => {
    const access = await requireCoAccess(ctx, request, coId);
    if (!access.actor.platformAdmin) throw new AppError(CORE_ERRORS.FORBIDDEN, { message: 'Only platform administrators change COs' });
    return access;
  };

  app.get<CoRoute>('/cos/:coId/edit', async (request, reply) => {
    const { co } = await editAccess(request, request.params.coId);
    const form = emptyForm({ name: co.name, description: co.description, status: co.status });
    return sendPage(ctx, request, reply, (page) => <CoEditPage page={page} co={co} form={form} />);
  });

  app.post<CoRoute>('/cos/:coId/edit', async (request, reply) => {
    const { actor, co } = await editAccess(request, request.params.coId);
    const outcome = await submitForm(coUpdate, postedValues(request), (input) => updateCo(ctx, actor, co.id, input));
    if (!outcome.ok) return sendPage(ctx, request, reply, (page) => <CoEditPage page={page} co={co} form={outcome.form} />, outcome.status);
    return redirectWith(reply, `/cos/${co.id}`, { kind: 'success', message: `CO ${outcome.value.name} saved.` });
  });
}
