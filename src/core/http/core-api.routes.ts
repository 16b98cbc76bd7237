import type { FastifyInstance } from 'fastify';
import { registerApiUserApi } from '../api-users/api-user.api.ts';
import { registerCoApi } from '../cos/co.api.ts';
import { registerGroupApi } from '../groups/group.api.ts';
import { registerHistoryApi } from '../history/history.api.ts';
import { registerPersonApi } from '../people/person.api.ts';
import type { RouteContext } from './route-context.ts';
import { registerProvisioningApi } from '../provisioning/provisioning.api.ts';
import { registerCoServiceApi } from '../co-services/co-service.api.ts';
import { registerSourceApi } from '../sources/source.api.ts';

/**
 * The core's JSON API under /api/v1. Each capability declares its routes with `apiRoute`, which
 * authenticates the API user, validates inputs and responses and feeds /api/openapi.json.
 */
export function registerCoreApiRoutes(app: FastifyInstance, ctx: RouteContext): void {
  registerApiUserApi(app, ctx);
  registerCoApi(app, ctx);
  registerPersonApi(app, ctx);
  registerGroupApi(app, ctx);
  registerCoServiceApi(app, ctx);
  registerHistoryApi(app, ctx);
  registerProvisioningApi(app, ctx);
  registerSourceApi(app, ctx);
}
