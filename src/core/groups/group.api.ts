import type { FastifyInstance } from 'fastify';
import { coParams, idParam, reachableCo } from '../cos/co.api.ts';
import { apiRoute } from '../http/openapi.ts';
import type { RouteContext } from '../http/route-context.ts';
import { groupInput, groupListResponse, groupResponse, membershipInput, membershipListResponse, membershipResponse } from './group.schema.ts';
import { addMembership, createGroup, deleteGroup, getGroup, listGroups, listMemberships, removeMembership, updateGroup } from './group.service.ts';

const groupParams = coParams.extend({ groupId: idParam });
const GROUPS = '/api/v1/cos/:coId/groups';
const GROUP = `${GROUPS}/:groupId`;

export function registerGroupApi(app: FastifyInstance, ctx: RouteContext): void {
  const tag = 'Groups';

  apiRoute(app, ctx.openapi, {
    method: 'GET',
    url: GROUPS,
    operationId: 'listGroups',
    summary: 'List the CO’s groups, including its admins and members groups',
    tag,
    params: coParams,
    response: groupListResponse,
    handler: async ({ actor, params }) => {
      await reachableCo(ctx, actor, params.coId);
      return { items: await listGroups(ctx, actor, params.coId) };
    },
  });

  apiRoute(app, ctx.openapi, {
    method: 'POST',
    url: GROUPS,
    operationId: 'createGroup',
    summary: 'Create a standard group',
    tag,
    params: coParams,
    body: groupInput,
    response: groupResponse,
    status: 201,
    errors: [409],
    handler: async ({ actor, params, body }) => {
      await reachableCo(ctx, actor, params.coId);
      return createGroup(ctx, actor, params.coId, body);
    },
  });

  apiRoute(app, ctx.openapi, {
    method: 'GET',
    url: GROUP,
    operationId: 'getGroup',
    summary: 'Read a group',
    tag,
    params: groupParams,
    response: groupResponse,
    handler: async ({ actor, params }) => {
      await reachableCo(ctx, actor, params.coId);
      return getGroup(ctx, actor, params.coId, params.groupId);
    },
  });

  apiRoute(app, ctx.openapi, {
    method: 'PUT',
    url: GROUP,
    operationId: 'updateGroup',
    summary: 'Replace a group’s name, description and status',
    tag,
    params: groupParams,
    body: groupInput,
    response: groupResponse,
    errors: [409, 422],
    handler: async ({ actor, params, body }) => {
      await reachableCo(ctx, actor, params.coId);
      return updateGroup(ctx, actor, params.coId, params.groupId, body);
    },
  });

  apiRoute(app, ctx.openapi, {
    method: 'DELETE',
    url: GROUP,
    operationId: 'deleteGroup',
    summary: 'Delete a standard group and its memberships',
    tag,
    params: groupParams,
    status: 204,
    errors: [422],
    handler: async ({ actor, params }) => {
      await reachableCo(ctx, actor, params.coId);
      await deleteGroup(ctx, actor, params.coId, params.groupId);
      return undefined;
    },
  });

  apiRoute(app, ctx.openapi, {
    method: 'GET',
    url: `${GROUP}/members`,
    operationId: 'listMemberships',
    summary: 'List a group’s memberships (the members group lists the CO’s active people, with ids that cannot be removed)',
    tag,
    params: groupParams,
    response: membershipListResponse,
    handler: async ({ actor, params }) => {
      await reachableCo(ctx, actor, params.coId);
      return { items: await listMemberships(ctx, actor, params.coId, params.groupId) };
    },
  });

  apiRoute(app, ctx.openapi, {
    method: 'POST',
    url: `${GROUP}/members`,
    operationId: 'addMembership',
    summary: 'Add a person of the CO to a group',
    tag,
    params: groupParams,
    body: membershipInput,
    response: membershipResponse,
    status: 201,
    errors: [409, 422],
    handler: async ({ actor, params, body }) => {
      await reachableCo(ctx, actor, params.coId);
      return addMembership(ctx, actor, params.coId, params.groupId, body);
    },
  });

  apiRoute(app, ctx.openapi, {
    method: 'DELETE',
    url: `${GROUP}/members/:membershipId`,
    operationId: 'removeMembership',
    summary: 'Remove a membership',
    tag,
    params: groupParams.extend({ membershipId: idParam }),
    status: 204,
    handler: async ({ actor, params }) => {
      await reachableCo(ctx, actor, params.coId);
      await removeMembership(ctx, actor, params.coId, params.groupId, params.membershipId);
      return undefined;
    },
  });
}
