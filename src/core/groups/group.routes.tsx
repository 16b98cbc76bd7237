import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AppError } from '../errors/app-error.ts';
import { CORE_ERRORS } from '../errors/error-codes.ts';
import { findPeopleByIds, type Person } from '../people/person.repository.ts';
import { listPeople } from '../people/person.service.ts';
import type { RouteContext } from '../http/route-context.ts';
import { listServices } from '../co-services/co-service.service.ts';
import { emptyForm, type FormState } from '../web/components.views.tsx';
import { localTimesAsUtc, postedValues, submitForm } from '../web/forms.ts';
import { requireCoAdmin } from '../web/guards.ts';
import { redirectWith, sendPage } from '../web/render.ts';
import { groupInput, membershipInput } from './group.schema.ts';
import { addMembership, createGroup, deleteGroup, getGroup, listGroups, listMemberships, removeMembership, updateGroup, whichAreInGroup, type Group } from './group.service.ts';
import { findMembershipOfPerson } from './group.repository.ts';
import { GroupFormPage } from './group-form.views.tsx';
import { GroupsListPage } from './group-list.views.tsx';
import { GroupPage } from './group.views.tsx';

type CoRoute = { Params: { coId: string } };
type GroupRoute = { Params: { coId: string; groupId: string } };
type MembershipRoute = { Params: { coId: string; groupId: string; membershipId: string } };

/** Members a group page lists per page, how far it counts them ("more than 1,000"), and how many people its "add a member" choice offers. */
const MEMBERS_PER_PAGE = 100;
const MEMBERS_COUNTED_UP_TO = 1000;
const CANDIDATES_SHOWN = 200;
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/g;

/** The group page's query: `q` narrows the people offered to add, `page` is the page of members. */
const groupPageQuery = z.object({ q: z.string().trim().max(256).catch(''), page: z.coerce.number().int().min(1).max(1000000).catch(1) });
/** System groups keep their name and status; only the description is theirs to change. */
const systemGroupInput = groupInput.pick({ description: true });

export function registerGroupRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const groupHref = (coId: string, groupId: string) => `/cos/${coId}/groups/${groupId}`;

  async function showForm(request: FastifyRequest, reply: FastifyReply, coId: string, groupId: string | undefined, form: FormState | ((g: Group) => FormState), status = 200) {
    const { actor, co } = await requireCoAdmin(ctx, request, coId);
    const group = groupId === undefined ? undefined : await getGroup(ctx, actor, co.id, groupId);
    const state = typeof form === 'function' ? form(group!) : form;
    return sendPage(ctx, request, reply, (page) => <GroupFormPage page={page} co={co} group={group} form={state} />, status);
  }

  async function showGroup(request: FastifyRequest, reply: FastifyReply, coId: string, groupId: string, form: FormState, status = 200) {
    const { actor, co } = await requireCoAdmin(ctx, request, coId);
    const group = await getGroup(ctx, actor, co.id, groupId);
    const query = groupPageQuery.parse(request.query ?? {});
    const [memberships, allServices] = await Promise.all([
      listMemberships(ctx, actor, co.id, group.id, { page: query.page, pageSize: MEMBERS_PER_PAGE, countUpTo: MEMBERS_COUNTED_UP_TO }),
      listServices(ctx, actor, co.id),
    ]);
    const services = allServices.filter((s) => s.coGroupId === group.id);
    const people = await findPeopleByIds(ctx.db, co.id, memberships.items.map((m) => m.personId));
    const members = memberships.items
      .map((membership) => ({ membership, person: people.get(membership.personId) }))
      .sort((a, b) => (a.person?.displayName ?? '').localeCompare(b.person?.displayName ?? ''));
    const q = query.q.replace(CONTROL_CHARS, '');
    let candidates: Person[] = [];
    let candidatesTotal = 0;
    if (group.type !== 'members') {
      const found = await listPeople(ctx, actor, co.id, { q: q || undefined, page: 1, pageSize: CANDIDATES_SHOWN, countUpTo: CANDIDATES_SHOWN });
      const inGroup = await whichAreInGroup(ctx, actor, co.id, group, found.people.map((p) => p.id));
      candidates = found.people.filter((p) => !inGroup.has(p.id)).sort((a, b) => a.displayName.localeCompare(b.displayName));
      candidatesTotal = found.totalIsAtLeast ? found.total + 1 : found.total;
    }
    const myPersonId = actor.personIds[co.id];
    const ownAdminMembershipId = group.type === 'admins' && !actor.platformAdmin && myPersonId ? (await findMembershipOfPerson(ctx.db, co.id, group.id, myPersonId))?.id : undefined;
    return sendPage(
      ctx,
      request,
      reply,
      (page) => (
        <GroupPage
          page={page}
          co={co}
          group={group}
          members={members}
          services={services}
          memberships={memberships}
          candidates={candidates}
          candidatesTotal={candidatesTotal}
          q={q}
          form={form}
          ownAdminMembershipId={ownAdminMembershipId}
          now={ctx.clock.now()}
        />
      ),
      status,
    );
  }

  app.get<CoRoute>('/cos/:coId/groups', async (request, reply) => {
    const { actor, co } = await requireCoAdmin(ctx, request, request.params.coId);
    const groups = await listGroups(ctx, actor, co.id);
    return sendPage(ctx, request, reply, (page) => <GroupsListPage page={page} co={co} groups={groups} />);
  });

  app.get<CoRoute>('/cos/:coId/groups/new', async (request, reply) => showForm(request, reply, request.params.coId, undefined, emptyForm({ status: 'active' })));

  app.post<CoRoute>('/cos/:coId/groups', async (request, reply) => {
    const { actor, co } = await requireCoAdmin(ctx, request, request.params.coId);
    const outcome = await submitForm(groupInput, postedValues(request), (input) => createGroup(ctx, actor, co.id, input));
    if (!outcome.ok) return showForm(request, reply, co.id, undefined, outcome.form, outcome.status);
    return redirectWith(reply, groupHref(co.id, outcome.value.id), { kind: 'success', message: `Group ${outcome.value.name} created.` });
  });

  app.get<GroupRoute>('/cos/:coId/groups/:groupId', async (request, reply) => showGroup(request, reply, request.params.coId, request.params.groupId, emptyForm()));

  app.get<GroupRoute>('/cos/:coId/groups/:groupId/edit', async (request, reply) =>
    showForm(request, reply, request.params.coId, request.params.groupId, (g) => emptyForm({ name: g.name, description: g.description, status: g.status })),
  );

  app.post<GroupRoute>('/cos/:coId/groups/:groupId/edit', async (request, reply) => {
    const { actor, co } = await requireCoAdmin(ctx, request, request.params.coId);
    const group = await getGroup(ctx, actor, co.id, request.params.groupId);
    const values = postedValues(request);
    const outcome =
      group.type === 'standard'
        ? await submitForm(groupInput, values, (input) => updateGroup(ctx, actor, co.id, group.id, input))
        : await submitForm(systemGroupInput, values, (input) => updateGroup(ctx, actor, co.id, group.id, { name: group.name, status: group.status, description: input.description }));
    if (!outcome.ok) return showForm(request, reply, co.id, group.id, outcome.form, outcome.status);
    return redirectWith(reply, groupHref(co.id, group.id), { kind: 'success', message: `Group ${outcome.value.name} saved.` });
  });

  app.post<GroupRoute>('/cos/:coId/groups/:groupId/delete', async (request, reply) => {
    const { actor, co } = await requireCoAdmin(ctx, request, request.params.coId);
    const group = await getGroup(ctx, actor, co.id, request.params.groupId);
    await deleteGroup(ctx, actor, co.id, group.id);
    return redirectWith(reply, `/cos/${co.id}/groups`, { kind: 'success', message: `Group ${group.name} deleted.` });
  });

  app.post<GroupRoute>('/cos/:coId/groups/:groupId/members', async (request, reply) => {
    const { actor, co } = await requireCoAdmin(ctx, request, request.params.coId);
    const group = await getGroup(ctx, actor, co.id, request.params.groupId);
    const groupId = group.id;
    // The members group has no form to show a message on; the error page says why.
    if (group.type === 'members') throw new AppError(CORE_ERRORS.GROUP_MEMBERSHIP_AUTOMATIC);
    const values = localTimesAsUtc(postedValues(request), ['validFrom', 'validThrough']);
    const outcome = await submitForm(membershipInput, values, (input) => addMembership(ctx, actor, co.id, groupId, { ...input, member: true }));
    if (!outcome.ok) return showGroup(request, reply, co.id, groupId, { ...outcome.form, values: postedValues(request) }, outcome.status);
    return redirectWith(reply, groupHref(co.id, groupId), { kind: 'success', message: 'Member added.' });
  });

  app.post<MembershipRoute>('/cos/:coId/groups/:groupId/members/:membershipId/delete', async (request, reply) => {
    const { actor, co } = await requireCoAdmin(ctx, request, request.params.coId);
    const { groupId, membershipId } = request.params;
    await removeMembership(ctx, actor, co.id, groupId, membershipId);
    return redirectWith(reply, groupHref(co.id, groupId), { kind: 'success', message: 'Member removed.' });
  });
}
