import type { FastifyInstance } from 'fastify';
import { API_COUNTED_UP_TO, apiRoute, coParams, idParam } from '../http/api-route.ts';
import type { RouteContext } from '../http/route-context.ts';
import { groupInput, groupListResponse, groupResponse, listMembershipsQuery, membershipInput, membershipListResponse, membershipResponse } from './group.schema.ts';
import { addMembership, createGroup, deleteGroup, getGroup, listGroups, listMemberships, removeMembership, updateGroup } from './group.service.ts';

const groupParams = coParams.extend({ groupId: idParam });
const GROUPS = '/api/v1/cos/:coId/groups';
const GROUP = `${GROUPS}/:groupId`;

export function registerGroupApi(app: FastifyInstance, ctx: RouteContext): void {
  const tag = 'Groups';

  apiRoute(app, ctx, {
    method: 'GET',
    url: GROUPS,
    operationId: 'listGroups',
    summary: 'List the CO’s groups, including its admins and members groups',
    tag,
    params: coParams,
    response: groupListResponse,
    co: 'read',
    handler: async ({ actor, co }) => ({ items: await listGroups(ctx, actor, co.id) }),
  });

  apiRoute(app, ctx, {
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
    co: 'read',
    handler: async ({ actor, body, co }) => createGroup(ctx, actor, co.id, body),
  });

  apiRoute(app, ctx, {
    method: 'GET',
    url: GROUP,
    operationId: 'getGroup',
    summary: 'Read a group',
    tag,
    params: groupParams,
    response: groupResponse,
    co: 'read',
    handler: async ({ actor, params, co }) => getGroup(ctx, actor, co.id, params.groupId),
  });

  apiRoute(app, ctx, {
    method: 'PUT',
    url: GROUP,
    operationId: 'updateGroup',
    summary: 'Replace a group’s name, description and status',
    tag,
    params: groupParams,
    body: groupInput,
    response: groupResponse,
    errors: [409, 422],
    co: 'read',
    handler: async ({ actor, params, body, co }) => updateGroup(ctx, actor, co.id, params.groupId, body),
  });

  apiRoute(app, ctx, {
    method: 'DELETE',
    url: GROUP,
    operationId: 'deleteGroup',
    summary: 'Delete a standard group and its memberships',
    tag,
    params: groupParams,
    status: 204,
    errors: [422],
    co: 'read',
    handler: async ({ actor, params, co }) => deleteGroup(ctx, actor, co.id, params.groupId),
  });

  apiRoute(app, ctx, {
    method: 'GET',
    url: `${GROUP}/members`,
    operationId: 'listMemberships',
    summary: 'List a group’s memberships, a page at a time, oldest first (the members group lists the CO’s active people, with ids that cannot be removed). total is exact up to 10,000; beyond, it is 10,000 with totalIsAtLeast',
    tag,
    params: groupParams,
    query: listMembershipsQuery,
    response: membershipListResponse,
    co: 'read',
    handler: async ({ actor, params, query, co }) => {
      const { items, total, totalIsAtLeast, page, pageSize } = await listMemberships(ctx, actor, co.id, params.groupId, { ...query, countUpTo: API_COUNTED_UP_TO });
      return { items, total, totalIsAtLeast, page, pageSize };
    },
  });

  apiRoute(app, ctx, {
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
    co: 'read',
    handler: async ({ actor, params, body, co }) => addMembership(ctx, actor, co.id, params.groupId, body),
  });

  apiRoute(app, ctx, {
    method: 'DELETE',
    url: `${GROUP}/members/:membershipId`,
    operationId: 'removeMembership',
    summary: 'Remove a membership',
    tag,
    params: groupParams.extend({ membershipId: idParam }),
    status: 204,
    co: 'read',
    handler: async ({ actor, params, co }) => removeMembership(ctx, actor, co.id, params.groupId, params.membershipId),
  });
}
