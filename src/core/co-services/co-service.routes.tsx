import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { listGroups } from '../groups/group.service.ts';
import { listCoHistory } from '../history/history.service.ts';
import { allIdentifierTypes } from '../people/person.service.ts';
import type { RouteContext } from '../http/route-context.ts';
import { emptyForm, type FormState } from '../web/components.views.tsx';
import { postedValues, submitForm } from '../web/forms.ts';
import { requireCoAdmin } from '../web/guards.ts';
import { redirectWith, sendPage } from '../web/render.ts';
import { coServiceInput } from './co-service.schema.ts';
import { createService, deleteService, getService, listServices, setServiceStatus, updateService, type CoService } from './co-service.service.ts';
import { ServiceFormPage } from './co-service-form.views.tsx';
import { ServicesListPage } from './co-service-list.views.tsx';
import { ServicePage } from './co-service.views.tsx';

type CoRoute = { Params: { coId: string } };
type ServiceRoute = { Params: { coId: string; serviceId: string } };

/** A service as its form shows it: every field, absent ones as empty inputs. */
function formValuesOf(s: CoService): Record<string, unknown> {
  return {
    name: s.name,
    description: s.description,
    shortLabel: s.shortLabel,
    coGroupId: s.coGroupId ?? '',
    serviceUrl: s.serviceUrl ?? '',
    contactEmail: s.contactEmail ?? '',
    logoUrl: s.logoUrl ?? '',
    entitlementUri: s.entitlementUri ?? '',
    visibility: s.visibility,
    identifierType: s.identifierType,
    status: s.status,
  };
}

export function registerServiceRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const serviceHref = (coId: string, serviceId: string) => `/cos/${coId}/services/${serviceId}`;

  async function showForm(request: FastifyRequest, reply: FastifyReply, coId: string, serviceId: string | undefined, form: FormState | ((s: CoService) => FormState), status = 200) {
    const { actor, co } = await requireCoAdmin(ctx, request, coId);
    const service = serviceId === undefined ? undefined : await getService(ctx, actor, co.id, serviceId);
    const [groups, identifierTypes] = await Promise.all([listGroups(ctx, actor, co.id), allIdentifierTypes(ctx.db, co.id)]);
    const state = typeof form === 'function' ? form(service!) : form;
    return sendPage(ctx, request, reply, (page) => <ServiceFormPage page={page} co={co} service={service} form={state} groups={groups} identifierTypes={identifierTypes} />, status);
  }

  app.get<CoRoute>('/cos/:coId/services', async (request, reply) => {
    const { actor, co } = await requireCoAdmin(ctx, request, request.params.coId);
    const [services, groups] = await Promise.all([listServices(ctx, actor, co.id), listGroups(ctx, actor, co.id)]);
    return sendPage(ctx, request, reply, (page) => <ServicesListPage page={page} co={co} services={services} groups={groups} />);
  });

  app.get<CoRoute>('/cos/:coId/services/new', async (request, reply) =>
    showForm(request, reply, request.params.coId, undefined, emptyForm({ visibility: 'co_member', identifierType: 'uid', status: 'active', coGroupId: '' })),
  );

  app.post<CoRoute>('/cos/:coId/services', async (request, reply) => {
    const { actor, co } = await requireCoAdmin(ctx, request, request.params.coId);
    const outcome = await submitForm(coServiceInput, postedValues(request), (input) => createService(ctx, actor, co.id, input));
    if (!outcome.ok) return showForm(request, reply, co.id, undefined, outcome.form, outcome.status);
    return redirectWith(reply, serviceHref(co.id, outcome.value.id), { kind: 'success', message: `Service ${outcome.value.name} created.` });
  });

  app.get<ServiceRoute>('/cos/:coId/services/:serviceId', async (request, reply) => {
    const { actor, co } = await requireCoAdmin(ctx, request, request.params.coId);
    const service = await getService(ctx, actor, co.id, request.params.serviceId);
    const [groups, history] = await Promise.all([listGroups(ctx, actor, co.id), listCoHistory(ctx, actor, co.id, { serviceId: service.id, limit: 100 })]);
    const group = groups.find((g) => g.id === service.coGroupId);
    return sendPage(ctx, request, reply, (page) => <ServicePage page={page} co={co} service={service} group={group} history={history} />);
  });

  app.get<ServiceRoute>('/cos/:coId/services/:serviceId/edit', async (request, reply) =>
    showForm(request, reply, request.params.coId, request.params.serviceId, (s) => emptyForm(formValuesOf(s))),
  );

  app.post<ServiceRoute>('/cos/:coId/services/:serviceId/edit', async (request, reply) => {
    const { actor, co } = await requireCoAdmin(ctx, request, request.params.coId);
    const service = await getService(ctx, actor, co.id, request.params.serviceId);
    const outcome = await submitForm(coServiceInput, postedValues(request), (input) => updateService(ctx, actor, co.id, service.id, input));
    if (!outcome.ok) return showForm(request, reply, co.id, service.id, outcome.form, outcome.status);
    return redirectWith(reply, serviceHref(co.id, service.id), { kind: 'success', message: `Service ${outcome.value.name} saved.` });
  });

  for (const [action, status, done] of [
    ['suspend', 'suspended', 'suspended'],
    ['reactivate', 'active', 'reactivated'],
  ] as const) {
    app.post<ServiceRoute>(`/cos/:coId/services/:serviceId/${action}`, async (request, reply) => {
      const { actor, co } = await requireCoAdmin(ctx, request, request.params.coId);
      const service = await setServiceStatus(ctx, actor, co.id, request.params.serviceId, status);
      return redirectWith(reply, serviceHref(co.id, service.id), { kind: 'success', message: `Service ${service.name} ${done}.` });
    });
  }

  app.post<ServiceRoute>('/cos/:coId/services/:serviceId/delete', async (request, reply) => {
    const { actor, co } = await requireCoAdmin(ctx, request, request.params.coId);
    const service = await getService(ctx, actor, co.id, request.params.serviceId);
    await deleteService(ctx, actor, co.id, service.id);
    return redirectWith(reply, `/cos/${co.id}/services`, { kind: 'success', message: `Service ${service.name} deleted.` });
  });
}
