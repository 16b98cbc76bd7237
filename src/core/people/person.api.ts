import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Actor } from '../auth/actor.ts';
import { API_COUNTED_UP_TO, apiRoute, coParams, idParam } from '../http/api-route.ts';
import type { RouteContext } from '../http/route-context.ts';
import {
  emailInput,
  emailResponse,
  identifierInput,
  identifierResponse,
  identifierTypeInput,
  identifierTypeListResponse,
  identifierTypeResponse,
  listPeopleQuery,
  nameInput,
  nameResponse,
  personCreateInput,
  personListResponse,
  personResponse,
  personStatusInput,
  BUILT_IN_IDENTIFIER_TYPES,
} from './person.schema.ts';
import {
  addEmail,
  addIdentifier,
  addIdentifierType,
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

const personParams = coParams.extend({ personId: idParam });
const PEOPLE = '/api/v1/cos/:coId/people';
const PERSON = `${PEOPLE}/:personId`;

/**
 * Identifiers, names and email addresses share one shape of route: POST adds one to the person and
 * answers it (201), DELETE removes one by id (204).
 */
function registerPersonPart<B extends z.ZodType, R extends z.ZodType, D extends z.ZodType<{ coId: string; personId: string }>>(
  app: FastifyInstance,
  ctx: RouteContext,
  part: {
    segment: 'identifiers' | 'names' | 'emails';
    /** The path parameter of one part (`identifierId`), and the parameters it completes. */
    idName: 'identifierId' | 'nameId' | 'emailId';
    idParams: D;
    noun: string;
    body: B;
    response: R;
    errors?: number[];
    add: (coId: string, personId: string, input: z.output<B>, actor: Actor) => Promise<string>;
    remove: (coId: string, params: z.output<D>, actor: Actor) => Promise<void>;
  },
): void {
  const tag = 'People';
  const article = /^[aeiou]/i.test(part.noun) ? 'an' : 'a';
  const opName = part.noun.replace(/(^|\s)(\w)/g, (_m, _s: string, c: string) => c.toUpperCase());
  apiRoute(app, ctx, {
    method: 'POST',
    url: `${PERSON}/${part.segment}`,
    operationId: `add${opName}`,
    summary: `Add ${article} ${part.noun} to a person`,
    tag,
    params: personParams,
    body: part.body,
    response: part.response,
    status: 201,
    ...(part.errors ? { errors: part.errors } : {}),
    co: 'read',
    handler: async ({ actor, params, body, co }) => {
      const id = await part.add(co.id, params.personId, body, actor);
      const person = await getPerson(ctx, actor, co.id, params.personId);
      const all: Array<{ id: string }> = part.segment === 'identifiers' ? person.identifiers : part.segment === 'names' ? person.names : person.emails;
      return all.find((x) => x.id === id) as z.input<R>;
    },
  });
  apiRoute(app, ctx, {
    method: 'DELETE',
    url: `${PERSON}/${part.segment}/:${part.idName}`,
    operationId: `remove${opName}`,
    summary: `Remove ${article} ${part.noun} from a person`,
    tag,
    params: part.idParams,
    status: 204,
    co: 'read',
    handler: async ({ actor, params, co }) => part.remove(co.id, params, actor),
  });
}

export function registerPersonApi(app: FastifyInstance, ctx: RouteContext): void {
  const tag = 'People';

  apiRoute(app, ctx, {
    method: 'GET',
    url: PEOPLE,
    operationId: 'listPeople',
    summary: 'List or search the CO’s people, newest first: q matches the start of a name (from any of its words), an identifier, an email address or its domain, ignoring case. total is exact up to 10,000; beyond, it is 10,000 with totalIsAtLeast',
    tag,
    params: coParams,
    query: listPeopleQuery,
    response: personListResponse,
    co: 'read',
    handler: async ({ actor, query, co }) => {
      const { people, total, totalIsAtLeast, page, pageSize } = await listPeople(ctx, actor, co.id, { ...query, countUpTo: API_COUNTED_UP_TO });
      return { items: people, total, totalIsAtLeast, page, pageSize };
    },
  });

  apiRoute(app, ctx, {
    method: 'POST',
    url: PEOPLE,
    operationId: 'createPerson',
    summary: 'Create a person with a name and optionally identifiers and email addresses',
    tag,
    params: coParams,
    body: personCreateInput,
    response: personResponse,
    status: 201,
    errors: [409],
    co: 'read',
    handler: async ({ actor, body, co }) => createPerson(ctx, actor, co.id, body),
  });

  apiRoute(app, ctx, {
    method: 'GET',
    url: PERSON,
    operationId: 'getPerson',
    summary: 'Read a person with their names, identifiers and email addresses',
    tag,
    params: personParams,
    response: personResponse,
    co: 'read',
    handler: async ({ actor, params, co }) => getPerson(ctx, actor, co.id, params.personId),
  });

  apiRoute(app, ctx, {
    method: 'DELETE',
    url: PERSON,
    operationId: 'deletePerson',
    summary: 'Delete a person (their history stays, detached)',
    tag,
    params: personParams,
    status: 204,
    co: 'read',
    handler: async ({ actor, params, co }) => deletePerson(ctx, actor, co.id, params.personId),
  });

  apiRoute(app, ctx, {
    method: 'PUT',
    url: `${PERSON}/status`,
    operationId: 'setPersonStatus',
    summary: 'Set a person’s status',
    tag,
    params: personParams,
    body: personStatusInput,
    response: personResponse,
    co: 'read',
    handler: async ({ actor, params, body, co }) => {
      await setPersonStatus(ctx, actor, co.id, params.personId, body.status);
      return getPerson(ctx, actor, co.id, params.personId);
    },
  });

  registerPersonPart(app, ctx, {
    segment: 'identifiers',
    idName: 'identifierId',
    idParams: personParams.extend({ identifierId: idParam }),
    noun: 'identifier',
    body: identifierInput,
    response: identifierResponse,
    errors: [409],
    add: (coId, personId, input, actor) => addIdentifier(ctx, actor, coId, personId, input),
    remove: (coId, { personId, identifierId }, actor) => removeIdentifier(ctx, actor, coId, personId, identifierId),
  });
  registerPersonPart(app, ctx, {
    segment: 'names',
    idName: 'nameId',
    idParams: personParams.extend({ nameId: idParam }),
    noun: 'name',
    body: nameInput,
    response: nameResponse,
    add: (coId, personId, input, actor) => addName(ctx, actor, coId, personId, input),
    remove: (coId, { personId, nameId }, actor) => removeName(ctx, actor, coId, personId, nameId),
  });
  registerPersonPart(app, ctx, {
    segment: 'emails',
    idName: 'emailId',
    idParams: personParams.extend({ emailId: idParam }),
    noun: 'email address',
    body: emailInput,
    response: emailResponse,
    add: (coId, personId, input, actor) => addEmail(ctx, actor, coId, personId, input),
    remove: (coId, { personId, emailId }, actor) => removeEmail(ctx, actor, coId, personId, emailId),
  });

  apiRoute(app, ctx, {
    method: 'GET',
    url: '/api/v1/cos/:coId/identifier-types',
    operationId: 'listIdentifierTypes',
    summary: 'List the identifier types of the CO: the built-in ones and those the CO added',
    tag: 'Identifier types',
    params: coParams,
    response: identifierTypeListResponse,
    co: 'read',
    handler: async ({ co }) => {
      const builtIn: readonly string[] = BUILT_IN_IDENTIFIER_TYPES;
      const names = await allIdentifierTypes(ctx.db, co.id);
      return { items: names.map((name) => ({ name, builtIn: builtIn.includes(name) })) };
    },
  });

  apiRoute(app, ctx, {
    method: 'POST',
    url: '/api/v1/cos/:coId/identifier-types',
    operationId: 'addIdentifierType',
    summary: 'Add an identifier type to the CO',
    tag: 'Identifier types',
    params: coParams,
    body: identifierTypeInput,
    response: identifierTypeResponse,
    status: 201,
    errors: [409],
    co: 'read',
    handler: async ({ actor, body, co }) => {
      await addIdentifierType(ctx, actor, co.id, body.name);
      return { name: body.name, builtIn: false };
    },
  });
}
