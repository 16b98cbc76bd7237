import type { FastifyInstance } from 'fastify';
import { coParams, idParam, reachableCo } from '../cos/co.api.ts';
import { apiRoute } from '../http/openapi.ts';
import type { RouteContext } from '../http/route-context.ts';
import { coServiceInput, coServiceListResponse, coServiceResponse } from './co-service.schema.ts';
import { createService, deleteService, getService, listServices, updateService } from './co-service.service.ts';

const serviceParams = coParams.extend({ serviceId: idParam });
const SERVICES = '/api/v1/cos/:coId/services';
const SERVICE = `${SERVICES}/:serviceId`;

export function registerCoServiceApi(app: FastifyInstance, ctx: RouteContext): void {
  const tag = 'Services';

  apiRoute(app, ctx.openapi, {
    method: 'GET',
    url: SERVICES,
    operationId: 'listServices',
    summary: 'List the CO’s services',
    tag,
    params: coParams,
    response: coServiceListResponse,
    handler: async ({ actor, params }) => {
      await reachableCo(ctx, actor, params.coId);
      return { items: await listServices(ctx, actor, params.coId) };
    },
  });

  apiRoute(app, ctx.openapi, {
    method: 'POST',
    url: SERVICES,
    operationId: 'createService',
    summary: 'Create a CO Service (coGroupId, when given, must be a group of the same CO)',
    tag,
    params: coParams,
    body: coServiceInput,
    response: coServiceResponse,
    status: 201,
    errors: [409],
    handler: async ({ actor, params, body }) => {
      await reachableCo(ctx, actor, params.coId);
      return createService(ctx, actor, params.coId, body);
    },
  });

  apiRoute(app, ctx.openapi, {
    method: 'GET',
    url: SERVICE,
    operationId: 'getService',
    summary: 'Read a CO Service',
    tag,
    params: serviceParams,
    response: coServiceResponse,
    handler: async ({ actor, params }) => {
      await reachableCo(ctx, actor, params.coId);
      return getService(ctx, actor, params.coId, params.serviceId);
    },
  });

  apiRoute(app, ctx.openapi, {
    method: 'PUT',
    url: SERVICE,
    operationId: 'updateService',
    summary: 'Replace a CO Service’s settings',
    tag,
    params: serviceParams,
    body: coServiceInput,
    response: coServiceResponse,
    errors: [409],
    handler: async ({ actor, params, body }) => {
      await reachableCo(ctx, actor, params.coId);
      return updateService(ctx, actor, params.coId, params.serviceId, body);
    },
  });

  apiRoute(app, ctx.openapi, {
    method: 'DELETE',
    url: SERVICE,
    operationId: 'deleteService',
    summary: 'Delete a CO Service',
    tag,
    params: serviceParams,
    status: 204,
    handler: async ({ actor, params }) => {
      await reachableCo(ctx, actor, params.coId);
      await deleteService(ctx, actor, params.coId, params.serviceId);
      return undefined;
    },
  });
}
