import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { canReadCo } from '../../../core/auth/actor.ts';
import { AppError } from '../../../core/errors/app-error.ts';
import { CORE_ERRORS } from '../../../core/errors/error-codes.ts';
import { apiRoute } from '../../../core/http/api-route.ts';
import type { TokenRouteContext } from '../token-context.ts';
import { settingInput, settingResponse } from './token-setting.schema.ts';
import { getSetting, updateSetting } from './token-setting.service.ts';

const serviceParams = z.object({ coId: z.string(), serviceId: z.string() });
const TAG = 'Service tokens';

/** The JSON API of a CO Service's token setting: read it (CO readers), update it (CO admins). */
export function registerTokenSettingApi(app: FastifyInstance, ctx: TokenRouteContext): void {
  apiRoute(app, ctx, {
    method: 'GET',
    url: '/api/v1/cos/:coId/services/:serviceId/token-settings',
    summary: 'Read the service token settings of a CO Service',
    tag: TAG,
    params: serviceParams,
    response: settingResponse,
    handler: async ({ params, actor }) => getSetting(ctx, actor, params.coId, params.serviceId),
  });

  apiRoute(app, ctx, {
    method: 'PUT',
    url: '/api/v1/cos/:coId/services/:serviceId/token-settings',
    summary: 'Update the service token settings of a CO Service',
    tag: TAG,
    params: serviceParams,
    body: settingInput,
    response: settingResponse,
    handler: async ({ params, body, actor }) => {
      if (!canReadCo(actor, params.coId)) throw new AppError(CORE_ERRORS.SERVICE_NOT_FOUND);
      return (await updateSetting(ctx, actor, params.coId, params.serviceId, body)).setting;
    },
  });
}
