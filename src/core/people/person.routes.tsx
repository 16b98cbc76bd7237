import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { membershipsOfPerson } from '../groups/group.repository.ts';
import { currentGroupsOf } from '../groups/group.service.ts';
import { listHistory } from '../history/history.repository.ts';
import type { Actor } from '../auth/actor.ts';
import type { RouteContext } from '../http/route-context.ts';
import { emptyForm, type FormState } from '../web/components.views.tsx';
import { postedValues, submitForm, type FormOutcome } from '../web/forms.ts';
import { requireCoAccess, requireCoAdmin } from '../web/guards.ts';
import { redirectWith, sendPage } from '../web/render.ts';
import { emailInput, identifierInput, nameInput, personCreateInput, personStatusInput } from './person.schema.ts';
import {
  addEmail,
  addIdentifier,
  addName,
  allIdentifierTypes,
  createPerson,
  deletePerson,
  getPerson,
  listPeople,
  removeEmail,
  removeIdentifier,
  removeName,
  setPersonStatus,
} from './person.service.ts';
import { PeopleListPage } from './people-list.views.tsx';
import { PersonNewPage } from './person-new.views.tsx';
import { freshPersonForms, PersonPage, type PersonPageForms } from './person.views.tsx';

type CoRoute = { Params: { coId: string } };
type PersonRoute = { Params: { coId: string; personId: string } };
type PersonPartRoute = { Params: { coId: string; personId: string; partId: string } };
/** Checks a posted name, identifier or address and adds it to the person (its id), or gives the form back. */
type AddPart = (coId: string, personId: string, values: Record<string, unknown>, actor: Actor) => Promise<FormOutcome<string>>;

// Lenient on purpose: a bad page number in a shared link shows page 1, not an error.
const peopleQuery = z.object({
  q: z.string().trim().max(256).catch(''),
  page: z.coerce.number().int().min(1).max(100000).catch(1),
  pageSize: z.coerce.number().int().min(1).max(200).catch(25),
});
// PostgreSQL refuses NUL in text parameters; no search needs control characters.
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/g;
/** The CO People page counts people (found or all) up to this many, then says "more than": a pager needs no exact count of a million. */
const PEOPLE_COUNTED_UP_TO = 1000;

const nonEmpty = (v: unknown) => typeof v === 'string' && v.trim() !== '';

/** The add-person form is flat; the schema (shared with the API) nests name, identifiers, emails. */
function toPersonCreateInput(v: Record<string, unknown>): unknown {
  return {
    status: v.status,
    name: { given: v.given, middle: v.middle, family: v.family },
    identifiers: nonEmpty(v.identifier) ? [{ identifier: v.identifier, type: v.identifierType, login: v.login }] : [],
    emails: nonEmpty(v.mail) ? [{ mail: v.mail }] : [],
  };
}
const PERSON_CREATE_FIELDS: Record<string, string> = {
  'name.given': 'given',
  'name.middle': 'middle',
  'name.family': 'family',
  'identifiers.0.identifier': 'identifier',
  'identifiers.0.type': 'identifierType',
  'identifiers.0.login': 'login',
  'emails.0.mail': 'mail',
  type: 'identifierType',
};

export function registerPersonRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const personHref = (coId: string, personId: string) => `/cos/${coId}/people/${personId}`;

  async function showPerson(request: FastifyRequest, reply: FastifyReply, coId: string, personId: string, forms: Partial<PersonPageForms> = {}, status = 200) {
    const { actor, co, admin } = await requireCoAccess(ctx, request, coId);
    const person = await getPerson(ctx, actor, co.id, personId);
    const now = ctx.clock.now();
    const [memberships, current, history, identifierTypes] = await Promise.all([
      membershipsOfPerson(ctx.db, co.id, person.id),
      currentGroupsOf(ctx.db, co.id, person.id, now),
      listHistory(ctx.db, co.id, { personId: person.id, limit: 100 }),
      allIdentifierTypes(ctx.db, co.id),
    ]);
    const links = [...(admin ? [{ label: 'Provisioning', href: `${personHref(co.id, person.id)}/provisioning` }] : []), ...ctx.menus.personPage({ co, person, actor })];
    return sendPage(
      ctx,
      request,
      reply,
      (page) => (
        <PersonPage
          page={page}
          co={co}
          person={person}
          admin={admin}
          self={actor.personIds[co.id] === person.id}
          memberships={memberships}
          membersGroup={current.find((g) => g.type === 'members')}
          history={history}
          identifierTypes={identifierTypes}
          links={links}
          forms={{ ...freshPersonForms(person), ...forms }}
          now={now}
        />
      ),
      status,
    );
  }

  async function showNewPerson(request: FastifyRequest, reply: FastifyReply, coId: string, form: FormState, status = 200) {
    const { co } = await requireCoAdmin(ctx, request, coId);
    const identifierTypes = await allIdentifierTypes(ctx.db, co.id);
    return sendPage(ctx, request, reply, (page) => <PersonNewPage page={page} co={co} form={form} identifierTypes={identifierTypes} />, status);
  }

  app.get<CoRoute>('/cos/:coId/people', async (request, reply) => {
    const { actor, co } = await requireCoAdmin(ctx, request, request.params.coId);
    const query = peopleQuery.parse(request.query ?? {});
    const q = query.q.replace(CONTROL_CHARS, '');
    const result = await listPeople(ctx, actor, co.id, { q: q || undefined, page: query.page, pageSize: query.pageSize, countUpTo: PEOPLE_COUNTED_UP_TO });
    return sendPage(ctx, request, reply, (page) => (
      <PeopleListPage page={page} co={co} people={result.people} total={result.total} totalIsAtLeast={result.totalIsAtLeast} q={q} pageNumber={query.page} pageSize={query.pageSize} />
    ));
  });

  app.get<CoRoute>('/cos/:coId/people/new', async (request, reply) =>
    showNewPerson(request, reply, request.params.coId, emptyForm({ status: 'active', identifierType: 'uid', login: 'on' })),
  );

  app.post<CoRoute>('/cos/:coId/people', async (request, reply) => {
    const { actor, co } = await requireCoAdmin(ctx, request, request.params.coId);
    const outcome = await submitForm(personCreateInput, postedValues(request), (input) => createPerson(ctx, actor, co.id, input), {
      toInput: toPersonCreateInput,
      fieldOf: (path) => PERSON_CREATE_FIELDS[path] ?? path,
    });
    if (!outcome.ok) return showNewPerson(request, reply, co.id, outcome.form, outcome.status);
    return redirectWith(reply, personHref(co.id, outcome.value.id), { kind: 'success', message: `${outcome.value.displayName} added.` });
  });

  app.get<PersonRoute>('/cos/:coId/people/:personId', async (request, reply) => showPerson(request, reply, request.params.coId, request.params.personId));

  app.post<PersonRoute>('/cos/:coId/people/:personId/status', async (request, reply) => {
    const { actor, co } = await requireCoAdmin(ctx, request, request.params.coId);
    const { personId } = request.params;
    const outcome = await submitForm(personStatusInput, postedValues(request), (input) => setPersonStatus(ctx, actor, co.id, personId, input.status).then(() => input.status), { idPrefix: 'status' });
    if (!outcome.ok) return showPerson(request, reply, co.id, personId, { status: outcome.form }, outcome.status);
    return redirectWith(reply, personHref(co.id, personId), { kind: 'success', message: `Status changed to ${outcome.value.replace(/_/g, ' ')}.` });
  });

  // Names, identifiers and addresses: each is added by its own form, which comes back with its message when wrong.
  const additions: Array<{ part: string; form: keyof PersonPageForms; message: string; add: AddPart }> = [
    { part: 'names', form: 'name', message: 'Name added.', add: (coId, personId, values, actor) => submitForm(nameInput, values, (input) => addName(ctx, actor, coId, personId, input), { idPrefix: 'name' }) },
    {
      part: 'identifiers',
      form: 'identifier',
      message: 'Identifier added.',
      add: (coId, personId, values, actor) => submitForm(identifierInput, values, (input) => addIdentifier(ctx, actor, coId, personId, input), { idPrefix: 'identifier' }),
    },
    { part: 'emails', form: 'email', message: 'Email address added.', add: (coId, personId, values, actor) => submitForm(emailInput, values, (input) => addEmail(ctx, actor, coId, personId, input), { idPrefix: 'email' }) },
  ];
  for (const { part, form, add, message } of additions) {
    app.post<PersonRoute>(`/cos/:coId/people/:personId/${part}`, async (request, reply) => {
      const { actor, co } = await requireCoAdmin(ctx, request, request.params.coId);
      const { personId } = request.params;
      const outcome = await add(co.id, personId, postedValues(request), actor);
      if (!outcome.ok) return showPerson(request, reply, co.id, personId, { [form]: outcome.form }, outcome.status);
      return redirectWith(reply, personHref(co.id, personId), { kind: 'success', message });
    });
  }

  const removals = [
    { part: 'names', remove: removeName, message: 'Name removed.' },
    { part: 'identifiers', remove: removeIdentifier, message: 'Identifier removed.' },
    { part: 'emails', remove: removeEmail, message: 'Email address removed.' },
  ] as const;
  for (const { part, remove, message } of removals) {
    app.post<PersonPartRoute>(`/cos/:coId/people/:personId/${part}/:partId/delete`, async (request, reply) => {
      const { actor, co } = await requireCoAdmin(ctx, request, request.params.coId);
      const { personId, partId } = request.params;
      await remove(ctx, actor, co.id, personId, partId);
      return redirectWith(reply, personHref(co.id, personId), { kind: 'success', message });
    });
  }

  app.post<PersonRoute>('/cos/:coId/people/:personId/delete', async (request, reply) => {
    const { actor, co } = await requireCoAdmin(ctx, request, request.params.coId);
    const person = await getPerson(ctx, actor, co.id, request.params.personId);
    await deletePerson(ctx, actor, co.id, person.id);
    return redirectWith(reply, `/cos/${co.id}/people`, { kind: 'success', message: `${person.displayName} deleted.` });
  });
}
