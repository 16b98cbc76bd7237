import type { FastifyInstance } from 'fastify';
import { apiRoute, coParams, idParam } from '../http/api-route.ts';
import type { RouteContext } from '../http/route-context.ts';
import { coServiceInput, coServiceListResponse, coServiceResponse } from './co-service.schema.ts';
import { createService, deleteService, getService, listServices, updateService } from './co-service.service.ts';

const serviceParams = coParams.extend({ serviceId: idParam });
const SERVICES = '/api/v1/cos/:coId/services';
const SERVICE = `${SERVICES}/:serviceId`;

export function registerCoServiceApi(app: FastifyInstance, ctx: RouteContext): void {
  const tag = 'Services';

  apiRoute(app, ctx, {
    method: 'GET',
    url: SERVICES,
    operationId: 'listServices',
    summary: 'List the CO’s services',
    tag,
    params: coParams,
    response: coServiceListResponse,
    co: 'read',
    handler: async ({ actor, co }) => ({ items: await listServices(ctx, actor, co.id) }),
  });

  apiRoute(app, ctx, {
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
    co: 'read',
    handler: async ({ actor, body, co }) => createService(ctx, actor, co.id, body),
  });

  apiRoute(app, ctx, {
    method: 'GET',
    url: SERVICE,
    operationId: 'getService',
    summary: 'Read a CO Service',
    tag,
    params: serviceParams,
    response: coServiceResponse,
    co: 'read',
    handler: async ({ actor, params, co }) => getService(ctx, actor, co.id, params.serviceId),
  });

  apiRoute(app, ctx, {
    method: 'PUT',
    url: SERVICE,
    operationId: 'updateService',
    summary: 'Replace a CO Service’s settings',
    tag,
    params: serviceParams,
    body: coServiceInput,
    response: coServiceResponse,
    errors: [409],
    co: 'read',
    handler: async ({ actor, params, body, co }) => updateService(ctx, actor, co.id, params.serviceId, body),
  });

  apiRoute(app, ctx, {
    method: 'DELETE',
    url: SERVICE,
    operationId: 'deleteService',
    summary: 'Delete a CO Service',
    tag,
    params: serviceParams,
    status: 204,
    co: 'read',
    handler: async ({ actor, params, co }) => deleteService(ctx, actor, co.id, params.serviceId),
  });
}
