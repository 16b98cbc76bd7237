import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Actor } from '../auth/actor.ts';
import { coParams, idParam, reachableCo } from '../cos/co.api.ts';
import { apiRoute } from '../http/openapi.ts';
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
function registerPersonPart<B extends z.ZodType, R extends z.ZodType>(
  app: FastifyInstance,
  ctx: RouteContext,
  part: {
    segment: 'identifiers' | 'names' | 'emails';
    idName: 'identifierId' | 'nameId' | 'emailId';
    noun: string;
    body: B;
    response: R;
    errors?: number[];
    add: (coId: string, personId: string, input: z.output<B>, actor: Actor) => Promise<string>;
    remove: (coId: string, personId: string, id: string, actor: Actor) => Promise<void>;
  },
): void {
  const tag = 'People';
  const article = /^[aeiou]/i.test(part.noun) ? 'an' : 'a';
  const opName = part.noun.replace(/(^|\s)(\w)/g, (_m, _s: string, c: string) => c.toUpperCase());
  apiRoute(app, ctx.openapi, {
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
    handler: async ({ actor, params, body }) => {
      await reachableCo(ctx, actor, params.coId);
      const id = await part.add(params.coId, params.personId, body, actor);
      const person = await getPerson(ctx, actor, params.coId, params.personId);
      const all: Array<{ id: string }> = part.segment === 'identifiers' ? person.identifiers : part.segment === 'names' ? person.names : person.emails;
      return all.find((x) => x.id === id) as z.input<R>;
    },
  });
  apiRoute(app, ctx.openapi, {
    method: 'DELETE',
    url: `${PERSON}/${part.segment}/:${part.idName}`,
    operationId: `remove${opName}`,
    summary: `Remove ${article} ${part.noun} from a person`,
    tag,
    params: personParams.extend({ [part.idName]: idParam }),
    status: 204,
    handler: async ({ actor, params }) => {
      const { coId, personId, [part.idName]: partId } = params as Record<string, string>;
      await reachableCo(ctx, actor, coId!);
      await part.remove(coId!, personId!, partId!, actor);
      return undefined;
    },
  });
}

export function registerPersonApi(app: FastifyInstance, ctx: RouteContext): void {
  const tag = 'People';

  apiRoute(app, ctx.openapi, {
    method: 'GET',
    url: PEOPLE,
    operationId: 'listPeople',
    summary: 'List or search the CO’s people (q matches names, identifiers and email addresses), newest first',
    tag,
    params: coParams,
    query: listPeopleQuery,
    response: personListResponse,
    handler: async ({ actor, params, query }) => {
      await reachableCo(ctx, actor, params.coId);
      const { people, total, page, pageSize } = await listPeople(ctx, actor, params.coId, query);
      return { items: people, total, page, pageSize };
    },
  });

  apiRoute(app, ctx.openapi, {
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
    handler: async ({ actor, params, body }) => {
      await reachableCo(ctx, actor, params.coId);
      return createPerson(ctx, actor, params.coId, body);
    },
  });

  apiRoute(app, ctx.openapi, {
    method: 'GET',
    url: PERSON,
    operationId: 'getPerson',
    summary: 'Read a person with their names, identifiers and email addresses',
    tag,
    params: personParams,
    response: personResponse,
    handler: async ({ actor, params }) => {
      await reachableCo(ctx, actor, params.coId);
      return getPerson(ctx, actor, params.coId, params.personId);
    },
  });

  apiRoute(app, ctx.openapi, {
    method: 'DELETE',
    url: PERSON,
    operationId: 'deletePerson',
    summary: 'Delete a person (their history stays, detached)',
    tag,
    params: personParams,
    status: 204,
    handler: async ({ actor, params }) => {
      await reachableCo(ctx, actor, params.coId);
      await deletePerson(ctx, actor, params.coId, params.personId);
      return undefined;
    },
  });

  apiRoute(app, ctx.openapi, {
    method: 'PUT',
    url: `${PERSON}/status`,
    operationId: 'setPersonStatus',
    summary: 'Set a person’s status',
    tag,
    params: personParams,
    body: personStatusInput,
    response: personResponse,
    handler: async ({ actor, params, body }) => {
      await reachableCo(ctx, actor, params.coId);
      await setPersonStatus(ctx, actor, params.coId, params.personId, body.status);
      return getPerson(ctx, actor, params.coId, params.personId);
    },
  });

  registerPersonPart(app, ctx, {
    segment: 'identifiers',
    idName: 'identifierId',
    noun: 'identifier',
    body: identifierInput,
    response: identifierResponse,
    errors: [409],
    add: (coId, personId, input, actor) => addIdentifier(ctx, actor, coId, personId, input),
    remove: (coId, personId, id, actor) => removeIdentifier(ctx, actor, coId, personId, id),
  });
  registerPersonPart(app, ctx, {
    segment: 'names',
    idName: 'nameId',
    noun: 'name',
    body: nameInput,
    response: nameResponse,
    add: (coId, personId, input, actor) => addName(ctx, actor, coId, personId, input),
    remove: (coId, personId, id, actor) => removeName(ctx, actor, coId, personId, id),
  });
  registerPersonPart(app, ctx, {
    segment: 'emails',
    idName: 'emailId',
    noun: 'email address',
    body: emailInput,
    response: emailResponse,
    add: (coId, personId, input, actor) => addEmail(ctx, actor, coId, personId, input),
    remove: (coId, personId, id, actor) => removeEmail(ctx, actor, coId, personId, id),
  });

  apiRoute(app, ctx.openapi, {
    method: 'GET',
    url: '/api/v1/cos/:coId/identifier-types',
    operationId: 'listIdentifierTypes',
    summary: 'List the identifier types of the CO: the built-in ones and those the CO added',
    tag: 'Identifier types',
    params: coParams,
    response: identifierTypeListResponse,
    handler: async ({ actor, params }) => {
      await reachableCo(ctx, actor, params.coId);
      const builtIn: readonly string[] = BUILT_IN_IDENTIFIER_TYPES;
      const names = await allIdentifierTypes(ctx.db, params.coId);
      return { items: names.map((name) => ({ name, builtIn: builtIn.includes(name) })) };
    },
  });

  apiRoute(app, ctx.openapi, {
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
    handler: async ({ actor, params, body }) => {
      await reachableCo(ctx, actor, params.coId);
      await addIdentifierType(ctx, actor, params.coId, body.name);
      return { name: body.name, builtIn: false };
    },
  });
}
