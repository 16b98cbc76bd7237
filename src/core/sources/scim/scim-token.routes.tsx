import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { emptyForm } from '../../web/components.views.tsx';
import { postedValues, submitForm } from '../../web/forms.ts';
import type { RouteContext } from '../../http/route-context.ts';
import { requireCoAdmin } from '../../web/guards.ts';
import { redirectWith, sendPage } from '../../web/render.ts';
import { getSource } from '../source.service.ts';
import { scimBaseUrl } from './scim-auth.ts';
import { createScimToken, listScimTokens, revokeScimToken, rotateScimTokens } from './scim-token.service.ts';
import { ScimSourceNewPage, ScimTokenShownPage, ScimTokensPage } from './scim-token.views.tsx';
import { addScimSource } from './scim-source.service.ts';

type CoRoute = { Params: { coId: string } };
type SourceRoute = { Params: { coId: string; sourceId: string } };
type TokenRoute = { Params: { coId: string; sourceId: string; tokenId: string } };

/**
 * The web pages of a SCIM source's tokens (CO admins): the base URL and tokens, a new token or a
 * rotation (answered with the page that shows the secret once, no-store), revoking one.
 */
export function registerScimTokenRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const newSourceForm = z.object({ name: z.string().trim().min(1, 'Required').max(100), relativeLocation: z.string().optional().transform((v) => v === 'on' || v === 'true') });

  app.get<CoRoute>('/cos/:coId/sources/new-scim', async (request, reply) => {
    const { co } = await requireCoAdmin(ctx, request, request.params.coId);
    return sendPage(ctx, request, reply, (page) => <ScimSourceNewPage page={page} co={co} form={emptyForm()} />);
  });

  // Answers with the page that shows the first token: it exists only in this response.
  app.post<CoRoute>('/cos/:coId/sources/new-scim', async (request, reply) => {
    const { actor, co } = await requireCoAdmin(ctx, request, request.params.coId);
    const outcome = await submitForm(newSourceForm, postedValues(request), (input) => addScimSource(ctx, actor, co.id, input));
    if (!outcome.ok) return sendPage(ctx, request, reply, (page) => <ScimSourceNewPage page={page} co={co} form={{ ...outcome.form, values: postedValues(request) }} />, outcome.status);
    const { source, baseUrl, secret } = outcome.value;
    reply.header('Cache-Control', 'no-store');
    return sendPage(ctx, request, reply, (page) => <ScimTokenShownPage page={page} co={co} source={source} baseUrl={baseUrl} secret={secret} rotated={false} />, 201);
  });

  app.get<SourceRoute>('/cos/:coId/sources/:sourceId/scim-tokens', async (request, reply) => {
    const { actor, co } = await requireCoAdmin(ctx, request, request.params.coId);
    const tokens = await listScimTokens(ctx, actor, co.id, request.params.sourceId);
    const source = await getSource(ctx, actor, co.id, request.params.sourceId);
    return sendPage(ctx, request, reply, (page) => <ScimTokensPage page={page} co={co} source={source} baseUrl={scimBaseUrl(ctx.config.publicUrl, source.id)} tokens={tokens} />);
  });

  for (const [path, rotated] of [['', false], ['/rotate', true]] as const) {
    app.post<SourceRoute>(`/cos/:coId/sources/:sourceId/scim-tokens${path}`, async (request, reply) => {
      const { actor, co } = await requireCoAdmin(ctx, request, request.params.coId);
      const make = rotated ? rotateScimTokens : createScimToken;
      const { secret } = await make(ctx, actor, co.id, request.params.sourceId, rotated ? 'rotated' : 'web');
      const source = await getSource(ctx, actor, co.id, request.params.sourceId);
      reply.header('Cache-Control', 'no-store');
      return sendPage(ctx, request, reply, (page) => <ScimTokenShownPage page={page} co={co} source={source} baseUrl={scimBaseUrl(ctx.config.publicUrl, source.id)} secret={secret} rotated={rotated} />, 201);
    });
  }

  app.post<TokenRoute>('/cos/:coId/sources/:sourceId/scim-tokens/:tokenId/revoke', async (request, reply) => {
    const { actor, co } = await requireCoAdmin(ctx, request, request.params.coId);
    await revokeScimToken(ctx, actor, co.id, request.params.sourceId, request.params.tokenId);
    return redirectWith(reply, `/cos/${co.id}/sources/${request.params.sourceId}/scim-tokens`, { kind: 'success', message: 'Token revoked.' });
  });
}
