import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { FormState } from '../../../core/web/components.views.tsx';
import { postedValues, submitForm } from '../../../core/web/forms.ts';
import { requireCoAdmin } from '../../../core/web/guards.ts';
import { redirectWith, sendPage } from '../../../core/web/render.ts';
import type { TokenRouteContext } from '../token-context.ts';
import { revokeServiceTokens } from '../tokens/token-revocation.service.ts';
import { listVerifierKeys } from '../verification/verification-keys.service.ts';
import { NOTICE_KINDS, type TokenSetting } from './token-setting.repository.ts';
import { settingInput } from './token-setting.schema.ts';
import { getTokenSettingPage, listTokenSettings, updateSetting } from './token-setting.service.ts';
import { SettingFormPage, SettingsListPage } from './token-setting.views.tsx';

type Params = { coId: string; serviceId: string };

/** The form's values for a saved setting (the custom type's fields flat, as the form names them). */
function formValuesOf(setting: TokenSetting): Record<string, unknown> {
  return {
    enabled: setting.enabled,
    tokenType: setting.tokenType,
    storageScheme: setting.storageScheme,
    maxLifetimeDays: setting.maxLifetimeDays ?? '',
    revokeUnusedAfterDays: setting.revokeUnusedAfterDays ?? '',
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
  };
}

/**
 * The posted form as the schema wants it: a form sends no `notices` at all when every box is
 * unchecked, and the custom type's fields arrive flat (`customType.alphabet`).
 */
function settingInputOf(values: Record<string, unknown>): Record<string, unknown> {
  const custom = values.tokenType === 'custom'
    ? {
        alphabet: values['customType.alphabet'] ?? '',
        length: values['customType.length'] ?? '',
        groupSize: values['customType.groupSize'],
        prefix: values['customType.prefix'] ?? '',
        checksum: values['customType.checksum'],
      }
    : null;
  return { ...values, notices: values.notices ?? [], customType: custom };
}

/** The CO admins' pages of token settings: the list, one service's form, revoking all its tokens. */
export function registerTokenSettingRoutes(app: FastifyInstance, ctx: TokenRouteContext): void {
  app.get<{ Params: { coId: string } }>('/cos/:coId/service-token-settings', async (request, reply) => {
    const { co, actor } = await requireCoAdmin(ctx, request, request.params.coId);
    const rows = await listTokenSettings(ctx, actor, co.id);
    return sendPage(ctx, request, reply, (page) => <SettingsListPage page={page} co={co} rows={rows} />);
  });

  const settingPage = async (request: FastifyRequest, reply: FastifyReply, coId: string, serviceId: string, form?: FormState, status = 200) => {
    const { co, actor } = await requireCoAdmin(ctx, request, coId);
    const { service, setting, unrevokedTokens } = await getTokenSettingPage(ctx, actor, coId, serviceId);
    const keys = await listVerifierKeys(ctx, actor, coId, serviceId);
    const state: FormState = form ?? { values: formValuesOf(setting), issues: [] };
    return sendPage(ctx, request, reply, (page) => <SettingFormPage page={page} co={co} service={service} form={state} activeTokens={unrevokedTokens} keys={keys} />, status);
  };

  app.get<{ Params: Params }>('/cos/:coId/service-token-settings/:serviceId', async (request, reply) =>
    settingPage(request, reply, request.params.coId, request.params.serviceId),
  );

  app.post<{ Params: Params }>('/cos/:coId/service-token-settings/:serviceId', async (request, reply) => {
    const { coId, serviceId } = request.params;
    const { actor } = await requireCoAdmin(ctx, request, coId);
    const values = postedValues(request);
    const outcome = await submitForm(settingInput, values, (input) => updateSetting(ctx, actor, coId, serviceId, input), { toInput: settingInputOf });
    if (!outcome.ok) return settingPage(request, reply, coId, serviceId, outcome.form, outcome.status);
    return redirectWith(reply, `/cos/${coId}/service-token-settings`, { kind: 'success', message: `Service token settings for ${outcome.value.service.name} saved.` });
  });

  app.post<{ Params: Params }>('/cos/:coId/service-token-settings/:serviceId/revoke-all', async (request, reply) => {
    const { coId, serviceId } = request.params;
    const { actor } = await requireCoAdmin(ctx, request, coId);
    const count = await revokeServiceTokens(ctx, actor, coId, serviceId, 'all tokens of the service revoked');
    return redirectWith(reply, `/cos/${coId}/service-token-settings/${serviceId}`, { kind: 'success', message: `${count} token(s) revoked.` });
  });
}
