import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import QRCode from 'qrcode';
import { personIdOf } from '../../core/auth/actor.ts';
import { AppError } from '../../core/errors/app-error.ts';
import { parseInput } from '../../core/http/validation.ts';
import type { RouteContext } from '../../core/http/route-context.ts';
import { findPerson } from '../../core/people/person.repository.ts';
import { listServicesOfCo } from '../../core/co-services/co-service.service.ts';
import type { FormState } from '../../core/web/components.views.tsx';
import { requireCoAccess, requireCoAdmin } from '../../core/web/guards.ts';
import { redirectWith, sendPage } from '../../core/web/render.ts';
import { generateInput, revokeInput, settingInput } from './service-token.schema.ts';
import {
  generateServiceToken,
  listPersonTokenServices,
  revokePersonTokens,
  revokeServiceToken,
  revokeServiceTokens,
} from './service-token.service.ts';
import { PersonTokensPage, SettingFormPage, SettingsListPage, TokenShownOncePage, VerifierKeyShownOncePage, type GenerateFormError } from './service-token.views.tsx';
import { createVerifierKey, listVerifierKeys, revokeVerifierKey } from './verifier.service.ts';
import { z } from 'zod';
import { findSetting, getServiceForSettings, NOTICE_KINDS, settingsOfCo, tokenDb, updateSetting } from './token-setting.service.ts';

type Params = { coId: string; personId: string; tokenId?: string; serviceId?: string };

/** Responses that carry or may carry a secret must never be stored by a browser or a proxy. */
function noStore(reply: FastifyReply): void {
  reply.header('Cache-Control', 'no-store');
  reply.header('Pragma', 'no-cache');
}

function formStateOf(error: AppError, values: Record<string, unknown>): FormState {
  const issues = error.issues.length > 0 ? error.issues : [];
  return { values, issues, error: issues.length === 0 || error.code !== 'VALIDATION_FAILED' ? error.message : undefined };
}

export function registerServiceTokenRoutes(app: FastifyInstance, ctx: RouteContext): void {
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
    const body = (request.body ?? {}) as Record<string, unknown>;
    let generated;
    try {
      generated = await generateServiceToken(ctx, actor, coId, personId, parseInput(generateInput, body));
    } catch (e) {
      // Wrong input re-renders the page with the message on the form it came from; access errors
      // (403/404) go to the error page.
      if (e instanceof AppError && e.status !== 403 && e.status !== 404 && typeof body.serviceId === 'string') {
        return personPage(request, reply, coId, personId, { serviceId: body.serviceId, form: formStateOf(e, { label: body.label, lifetimeDays: body.lifetimeDays, replaceTokenId: body.replaceTokenId }) }, e.status);
      }
      throw e;
    }
    const person = (await findPerson(ctx.db, coId, personId))!;
    const service = (await listServicesOfCo(ctx.db, coId)).find((s) => s.id === generated.token.serviceId)!;
    const username = person.identifiers.find((i) => i.type === service.identifierType)?.identifier;
    const qrDataUrl = await QRCode.toDataURL(generated.secret, { errorCorrectionLevel: 'M', margin: 1, scale: 6 });
    noStore(reply);
    return sendPage(ctx, request, reply, (page) => (
      <TokenShownOncePage page={page} co={co} person={person} service={service} token={generated.token} secret={generated.secret} qrDataUrl={qrDataUrl} username={username} isSelf={personIdOf(actor, coId) === personId} />
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

  app.get<{ Params: { coId: string } }>('/cos/:coId/service-token-settings', async (request, reply) => {
    const { co } = await requireCoAdmin(ctx, request, request.params.coId);
    const [services, settings] = await Promise.all([listServicesOfCo(ctx.db, co.id), settingsOfCo(ctx.db, co.id)]);
    const rows = await Promise.all(services.map(async (service) => ({ service, setting: settings.get(service.id) ?? (await findSetting(ctx.db, co.id, service.id)) })));
    return sendPage(ctx, request, reply, (page) => <SettingsListPage page={page} co={co} rows={rows} />);
  });

  const settingPage = async (request: FastifyRequest, reply: FastifyReply, coId: string, serviceId: string, form?: FormState, status = 200) => {
    const { co } = await requireCoAdmin(ctx, request, coId);
    const service = await getServiceForSettings(ctx.db, coId, serviceId);
    const setting = await findSetting(ctx.db, coId, serviceId);
    const active = await tokenDb(ctx.db).selectFrom('service_token').select('id').where('co_id', '=', coId).where('service_id', '=', serviceId).where('revoked_at', 'is', null).execute();
    const state: FormState = form ?? {
      values: {
        enabled: setting.enabled,
        tokenType: setting.tokenType,
        storageScheme: setting.storageScheme,
        maxLifetimeDays: setting.maxLifetimeDays ?? '',
        maxTokensPerPerson: setting.maxTokensPerPerson,
        generation: setting.generation,
        acknowledgePlaintext: setting.plaintextAcknowledged,
        expiryWarningDays: setting.expiryWarningDays.join(', '),
        'customType.alphabet': setting.customType?.alphabet ?? '',
        'customType.length': setting.customType?.length ?? '',
        'customType.groupSize': setting.customType?.groupSize ?? '',
        'customType.prefix': setting.customType?.prefix ?? '',
        'customType.checksum': setting.customType?.checksum ?? false,
        notices: NOTICE_KINDS.filter((k) => !setting.noticesOff.includes(k)),
      },
      issues: [],
    };
    const keys = await listVerifierKeys(ctx, request.actor!, coId, serviceId);
    return sendPage(ctx, request, reply, (page) => <SettingFormPage page={page} co={co} service={service} form={state} activeTokens={active.length} keys={keys} />, status);
  };

  app.get<{ Params: { coId: string; serviceId: string } }>('/cos/:coId/service-token-settings/:serviceId', async (request, reply) =>
    settingPage(request, reply, request.params.coId, request.params.serviceId),
  );

  app.post<{ Params: { coId: string; serviceId: string } }>('/cos/:coId/service-token-settings/:serviceId', async (request, reply) => {
    const { coId, serviceId } = request.params;
    const { actor } = await requireCoAdmin(ctx, request, coId);
    // A form sends no `notices` at all when every box is unchecked.
    const raw = (request.body ?? {}) as Record<string, unknown>;
    // The custom type's fields arrive flat (`customType.alphabet`); the schema wants an object.
    const custom = raw.tokenType === 'custom'
      ? {
          alphabet: raw['customType.alphabet'] ?? '',
          length: raw['customType.length'] ?? '',
          groupSize: raw['customType.groupSize'],
          prefix: raw['customType.prefix'] ?? '',
          checksum: raw['customType.checksum'],
        }
      : null;
    const body = { ...raw, notices: raw.notices ?? [], customType: custom };
    try {
      const service = await getServiceForSettings(ctx.db, coId, serviceId);
      await updateSetting(ctx, actor, coId, serviceId, parseInput(settingInput, body));
      return redirectWith(reply, `/cos/${coId}/service-token-settings`, { kind: 'success', message: `Service token settings for ${service.name} saved.` });
    } catch (e) {
      if (e instanceof AppError && (e.status === 400 || e.status === 409 || e.status === 422)) {
        return settingPage(request, reply, coId, serviceId, formStateOf(e, body), e.status);
      }
      throw e;
    }
  });

  app.post<{ Params: { coId: string; serviceId: string } }>('/cos/:coId/service-token-settings/:serviceId/revoke-all', async (request, reply) => {
    const { coId, serviceId } = request.params;
    const { actor } = await requireCoAdmin(ctx, request, coId);
    const count = await revokeServiceTokens(ctx, actor, coId, serviceId, 'all tokens of the service revoked');
    return redirectWith(reply, `/cos/${coId}/service-token-settings/${serviceId}`, { kind: 'success', message: `${count} token(s) revoked.` });
  });

  app.post<{ Params: { coId: string; serviceId: string } }>('/cos/:coId/service-token-settings/:serviceId/verification-keys', async (request, reply) => {
    const { coId, serviceId } = request.params;
    const { actor, co } = await requireCoAdmin(ctx, request, coId);
    const service = await getServiceForSettings(ctx.db, coId, serviceId);
    const { label } = parseInput(z.object({ label: z.string().trim().min(1, 'Give the key a label').max(64) }), request.body);
    const { key } = await createVerifierKey(ctx, actor, coId, serviceId, label);
    noStore(reply);
    return sendPage(ctx, request, reply, (page) => <VerifierKeyShownOncePage page={page} co={co} service={service} label={label} keyValue={key} />);
  });

  app.post<{ Params: { coId: string; serviceId: string; verifierId: string } }>('/cos/:coId/service-token-settings/:serviceId/verification-keys/:verifierId/revoke', async (request, reply) => {
    const { coId, serviceId, verifierId } = request.params;
    const { actor } = await requireCoAdmin(ctx, request, coId);
    await revokeVerifierKey(ctx, actor, coId, serviceId, verifierId);
    return redirectWith(reply, `/cos/${coId}/service-token-settings/${serviceId}`, { kind: 'success', message: 'The verification key is revoked.' });
  });
}
