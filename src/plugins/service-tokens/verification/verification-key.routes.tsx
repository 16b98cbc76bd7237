import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseInput, text } from '../../../core/http/validation.ts';
import { requireCoAdmin } from '../../../core/web/guards.ts';
import { redirectWith, sendPage } from '../../../core/web/render.ts';
import { noStore } from '../no-store.ts';
import type { TokenRouteContext } from '../token-context.ts';
import { createVerifierKey, revokeVerifierKey } from './verification-keys.service.ts';
import { VerifierKeyShownOncePage } from './verification-key.views.tsx';

const keyInput = z.object({ label: text({ max: 64 }).pipe(z.string().min(1, 'Give the key a label')) });

/** The CO admins' forms for a service's verification keys (on its settings page): create (shown once), revoke. */
export function registerVerificationKeyRoutes(app: FastifyInstance, ctx: TokenRouteContext): void {
  app.post<{ Params: { coId: string; serviceId: string } }>('/cos/:coId/service-token-settings/:serviceId/verification-keys', async (request, reply) => {
    const { coId, serviceId } = request.params;
    const { actor, co } = await requireCoAdmin(ctx, request, coId);
    const { label } = parseInput(keyInput, request.body);
    const { verifier, key, service } = await createVerifierKey(ctx, actor, coId, serviceId, label);
    noStore(reply);
    return sendPage(ctx, request, reply, (page) => <VerifierKeyShownOncePage page={page} co={co} service={service} label={verifier.label} keyValue={key} />);
  });

  app.post<{ Params: { coId: string; serviceId: string; verifierId: string } }>('/cos/:coId/service-token-settings/:serviceId/verification-keys/:verifierId/revoke', async (request, reply) => {
    const { coId, serviceId, verifierId } = request.params;
    const { actor } = await requireCoAdmin(ctx, request, coId);
    await revokeVerifierKey(ctx, actor, coId, serviceId, verifierId);
    return redirectWith(reply, `/cos/${coId}/service-token-settings/${serviceId}`, { kind: 'success', message: 'The verification key is revoked.' });
  });
}
