import type { FastifyInstance } from 'fastify';
import { registerApiUserRoutes } from '../api-users/api-user.routes.tsx';
import { registerCoRoutes } from '../cos/co.routes.tsx';
import { registerGroupRoutes } from '../groups/group.routes.tsx';
import { registerHistoryRoutes } from '../history/history.routes.tsx';
import { registerIdentifierTypeRoutes } from '../people/identifier-type.routes.tsx';
import { registerPersonRoutes } from '../people/person.routes.tsx';
import type { RouteContext } from '../http/route-context.ts';
import { registerProvisioningRoutes } from '../provisioning/provisioning.routes.tsx';
import { registerReprovisionRoutes } from '../provisioning/reprovision.routes.tsx';
import { registerServiceRoutes } from '../co-services/co-service.routes.tsx';
import { registerNotificationRoutes } from '../notifications/notification.routes.tsx';
import { registerSourceRoutes } from '../sources/source.routes.tsx';

/** The registry's web UI: one route module per capability, each guarding its own pages. */
export function registerCoreWebRoutes(app: FastifyInstance, ctx: RouteContext): void {
  registerCoRoutes(app, ctx);
  registerPersonRoutes(app, ctx);
  registerIdentifierTypeRoutes(app, ctx);
  registerGroupRoutes(app, ctx);
  registerServiceRoutes(app, ctx);
  registerApiUserRoutes(app, ctx);
  registerHistoryRoutes(app, ctx);
  registerProvisioningRoutes(app, ctx);
  registerReprovisionRoutes(app, ctx);
  registerNotificationRoutes(app, ctx);
  registerSourceRoutes(app, ctx);
}
