import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import QRCode from 'qrcode';
import { personIdOf } from '../../../core/auth/actor.ts';
import { parseInput } from '../../../core/http/validation.ts';
import { postedString, postedValues, submitForm } from '../../../core/web/forms.ts';
import { requireCoAccess } from '../../../core/web/guards.ts';
import { redirectWith, sendPage } from '../../../core/web/render.ts';
import type { TokenRouteContext } from '../token-context.ts';
import { noStore } from '../no-store.ts';
import { PersonTokensPage, TokenShownOncePage, type GenerateFormError } from './person-tokens.views.tsx';
import { generateInput, revokeInput } from './service-token.schema.ts';
import { generateServiceToken, listPersonTokenServices } from './service-token.service.ts';
import { revokePersonTokens, revokeServiceToken } from './token-revocation.service.ts';

type Params = { coId: string; personId: string; tokenId?: string };

/** The person's Service Tokens pages: the list, generate (the secret shown once), revoke one or all. */
export function registerServiceTokenRoutes(app: FastifyInstance, ctx: TokenRouteContext): void {
  const personPage = async (request: FastifyRequest, reply: FastifyReply, coId: string, personId: string, error?: GenerateFormError, status = 200) => {
    const { actor, co, admin } = await requireCoAccess(ctx, request, coId);
    const { person, services } = await listPersonTokenServices(ctx, actor, coId, personId);
    noStore(reply);
    const nonce = randomBytes(18).toString('base64url');
    return sendPage(
      ctx,
      request,
      reply,
      (page) => <PersonTokensPage page={page} co={co} person={person} services={services} isSelf={personIdOf(actor, coId) === personId} admin={admin} nonce={nonce} error={error} />,
      status,
    );
  };

  app.get<{ Params: Params }>('/cos/:coId/people/:personId/service-tokens', async (request, reply) =>
    personPage(request, reply, request.params.coId, request.params.personId),
  );

  app.post<{ Params: Params }>('/cos/:coId/people/:personId/service-tokens/generate', async (request, reply) => {
    const { coId, personId } = request.params;
    const { actor, co } = await requireCoAccess(ctx, request, coId);
    const values = postedValues(request);
    const outcome = await submitForm(generateInput, values, (input) => generateServiceToken(ctx, actor, coId, personId, input));
    // Wrong input re-renders the page with the message on the form it came from; access errors
    // (403, 404) go to the error page.
    if (!outcome.ok) return personPage(request, reply, coId, personId, { serviceId: postedString(values, 'serviceId'), form: outcome.form }, outcome.status);
    const { token, secret, person, service } = outcome.value;
    const username = person.identifiers.find((i) => i.type === service.identifierType)?.identifier;
    const qrDataUrl = await QRCode.toDataURL(secret, { errorCorrectionLevel: 'M', margin: 1, scale: 6 });
    noStore(reply);
    return sendPage(ctx, request, reply, (page) => (
      <TokenShownOncePage page={page} co={co} person={person} service={service} token={token} secret={secret} qrDataUrl={qrDataUrl} username={username} isSelf={personIdOf(actor, coId) === personId} />
    ));
  });

  app.post<{ Params: Params }>('/cos/:coId/people/:personId/service-tokens/:tokenId/revoke', async (request, reply) => {
    const { coId, personId, tokenId } = request.params;
    const { actor } = await requireCoAccess(ctx, request, coId);
    const { reason } = parseInput(revokeInput, request.body);
    await revokeServiceToken(ctx, actor, coId, personId, tokenId!, reason);
    return redirectWith(reply, `/cos/${coId}/people/${personId}/service-tokens`, { kind: 'success', message: 'The token is revoked.' });
  });

  app.post<{ Params: Params }>('/cos/:coId/people/:personId/service-tokens/revoke-all', async (request, reply) => {
    const { coId, personId } = request.params;
    const { actor } = await requireCoAccess(ctx, request, coId);
    const count = await revokePersonTokens(ctx, actor, coId, personId, { reason: 'all revoked' });
    return redirectWith(reply, `/cos/${coId}/people/${personId}/service-tokens`, { kind: 'success', message: `${count} token(s) revoked.` });
  });

  app.get<{ Params: { coId: string } }>('/cos/:coId/service-tokens', async (request, reply) => {
    const { actor } = await requireCoAccess(ctx, request, request.params.coId);
    const personId = personIdOf(actor, request.params.coId);
    if (!personId) return reply.redirect(`/cos/${request.params.coId}/service-token-settings`, 303);
    return reply.redirect(`/cos/${request.params.coId}/people/${personId}/service-tokens`, 303);
  });
}
