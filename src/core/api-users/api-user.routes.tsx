import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isIP } from 'node:net';
import type { RouteContext } from '../http/route-context.ts';
import { emptyForm, type FormState } from '../web/components.views.tsx';
import { localTimesAsUtc, postedValues, submitForm } from '../web/forms.ts';
import { requireCoAdmin } from '../web/guards.ts';
import { redirectWith, sendPage } from '../web/render.ts';
import { apiUserInput } from './api-user.schema.ts';
import { createApiUser, listApiUsers, setApiUserStatus } from './api-user.service.ts';
import { ApiUserKeyPage, ApiUserNewPage, ApiUsersPage } from './api-user.views.tsx';

type CoRoute = { Params: { coId: string } };
type ApiUserRoute = { Params: { coId: string; apiUserId: string } };

/**
 * The API's schema lets through entries no address can match (`999.1.1.1`, `10.0.0.0/40`); such an
 * API user would be refused on every call. The form catches the typo when it is typed.
 */
const apiUserForm = apiUserInput.superRefine((input, issues) => {
  for (const entry of input.allowedAddresses.split(',').map((a) => a.trim()).filter(Boolean)) {
    const [net = '', bits, ...rest] = entry.split('/');
    const family = isIP(net);
    const fits = family !== 0 && rest.length === 0 && (bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128)));
    if (!fits) issues.addIssue({ code: 'custom', path: ['allowedAddresses'], message: `"${entry}" is not an IP address or CIDR range` });
  }
});

export function registerApiUserRoutes(app: FastifyInstance, ctx: RouteContext): void {
  async function showNew(request: FastifyRequest, reply: FastifyReply, coId: string, form: FormState, status = 200) {
    const { co } = await requireCoAdmin(ctx, request, coId);
    return sendPage(ctx, request, reply, (page) => <ApiUserNewPage page={page} co={co} form={form} />, status);
  }

  app.get<CoRoute>('/cos/:coId/api-users', async (request, reply) => {
    const { actor, co } = await requireCoAdmin(ctx, request, request.params.coId);
    const apiUsers = await listApiUsers(ctx, actor, co.id);
    return sendPage(ctx, request, reply, (page) => <ApiUsersPage page={page} co={co} apiUsers={apiUsers} />);
  });

  app.get<CoRoute>('/cos/:coId/api-users/new', async (request, reply) => showNew(request, reply, request.params.coId, emptyForm()));

  // Answers with the key page itself rather than redirecting: the key exists only in this
  // response, which no cache may keep.
  app.post<CoRoute>('/cos/:coId/api-users', async (request, reply) => {
    const { actor, co } = await requireCoAdmin(ctx, request, request.params.coId);
    const values = localTimesAsUtc(postedValues(request), ['validFrom', 'validThrough']);
    const outcome = await submitForm(apiUserForm, values, (input) => createApiUser(ctx, actor, co.id, input));
    if (!outcome.ok) return showNew(request, reply, co.id, { ...outcome.form, values: postedValues(request) }, outcome.status);
    const { apiUser, key } = outcome.value;
    reply.header('Cache-Control', 'no-store');
    return sendPage(ctx, request, reply, (page) => <ApiUserKeyPage page={page} co={co} apiUser={apiUser} apiKey={key} />, 201);
  });

  for (const [action, status, done] of [
    ['suspend', 'suspended', 'suspended'],
    ['reactivate', 'active', 'reactivated'],
  ] as const) {
    app.post<ApiUserRoute>(`/cos/:coId/api-users/:apiUserId/${action}`, async (request, reply) => {
      const { actor, co } = await requireCoAdmin(ctx, request, request.params.coId);
      await setApiUserStatus(ctx, actor, co.id, request.params.apiUserId, status);
      return redirectWith(reply, `/cos/${co.id}/api-users`, { kind: 'success', message: `API user ${done}.` });
    });
  }
}
