import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Actor } from '../auth/actor.ts';
import type { Co } from '../cos/co.service.ts';
import { AppError } from '../errors/app-error.ts';
import { CORE_ERRORS } from '../errors/error-codes.ts';
import { listGroups } from '../groups/group.service.ts';
import { findPeopleByIds } from '../people/person.repository.ts';
import type { RouteContext } from '../http/route-context.ts';
import { listServices } from '../co-services/co-service.service.ts';
import { emptyForm, type FormState } from '../web/components.views.tsx';
import { postedValues, submitForm } from '../web/forms.ts';
import { requireCoAdmin } from '../web/guards.ts';
import { redirectWith, sendPage } from '../web/render.ts';
import { configFieldOf, configFormValues, configFromForm, describeConfig, type ConfigField } from './config-form.ts';
import type { Provisioner, Target } from './provisioner.ts';
import { coTargetFailures, retryJob, targetFailures } from './provisioning.service.ts';
import type { Option, ReferenceOptions } from './provisioning-common.views.tsx';
import { TargetFormPage, TargetTypePage } from './target-form.views.tsx';
import { TargetDeletePage, TargetPage, type FailureRow } from './target.views.tsx';
import { TargetsListPage } from './targets-list.views.tsx';
import { targetInput } from './target.schema.ts';
import { createTarget, deleteTarget, getTarget, listTargets, provisionerOf, updateTarget } from './target.service.ts';

type CoRoute = { Params: { coId: string } };
type TargetRoute = { Params: { coId: string; targetId: string } };

/** The flat form of a target: its own fields, then its settings as `config.<name>`. */
function formValuesOf(target: Target, fields: ConfigField[]): Record<string, unknown> {
  return {
    provisionerType: target.provisionerType,
    description: target.description,
    mode: target.mode,
    ordinal: String(target.ordinal),
    retryIntervalSeconds: String(target.retryIntervalSeconds),
    maxRetries: String(target.maxRetries),
    provisionGroupId: target.provisionGroupId ?? '',
    ...configFormValues(fields, target.config),
  };
}

function toTargetInput(fields: ConfigField[]) {
  return (v: Record<string, unknown>): unknown => ({
    provisionerType: v.provisionerType,
    description: v.description,
    mode: v.mode,
    ordinal: v.ordinal,
    retryIntervalSeconds: v.retryIntervalSeconds,
    maxRetries: v.maxRetries,
    provisionGroupId: v.provisionGroupId,
    config: configFromForm(fields, v),
  });
}

/**
 * The target form's schema: the API's, plus the provisioner's settings checked up front, so one
 * submission shows every wrong field at once (the service checks the settings again when saving).
 * On an edit, a secret left empty keeps the stored one, so it counts as given here.
 */
function targetFormSchema(provisioner: Provisioner, editing: boolean) {
  return z
    .unknown()
    .superRefine((value, rc) => {
      const base = targetInput.safeParse(value);
      if (!base.success) for (const i of base.error.issues) rc.addIssue({ code: 'custom', path: i.path, message: i.message });
      const config = { ...((value as { config?: Record<string, unknown> } | undefined)?.config ?? {}) };
      if (editing) for (const f of provisioner.secretFields) if (config[f] === undefined || config[f] === '') config[f] = 'kept';
      const settings = provisioner.configSchema.safeParse(config);
      if (!settings.success) for (const i of settings.error.issues) rc.addIssue({ code: 'custom', path: ['config', ...i.path], message: i.message });
    })
    .pipe(targetInput);
}

/** A form shown again after an error: what was typed stays, passwords never come back. */
function withoutSecrets(form: FormState, fields: ConfigField[]): FormState {
  const values = { ...form.values };
  for (const f of fields) if (f.kind === 'password') values[f.formName] = '';
  return { ...form, values };
}

export function registerProvisioningRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const targetsHref = (coId: string) => `/cos/${coId}/provisioning-targets`;
  const targetHref = (coId: string, targetId: string) => `${targetsHref(coId)}/${targetId}`;
  const typeOption = (p: Provisioner): Option => ({ value: p.type, label: p.label });
  const typeLabel = (type: string) => provisionerOf(ctx, type)?.label ?? `${type} (not enabled)`;

  async function groupOptions(actor: Actor, coId: string): Promise<Option[]> {
    return (await listGroups(ctx, actor, coId)).map((g) => ({ value: g.id, label: g.name }));
  }

  /** The CO's own objects a setting may point at (another target, a service, a group). */
  async function referenceOptions(actor: Actor, coId: string, provisioner: Provisioner | undefined, exceptTargetId?: string): Promise<ReferenceOptions> {
    const [targets, services, groups, choice] = await Promise.all([listTargets(ctx, actor, coId), listServices(ctx, actor, coId), groupOptions(actor, coId), provisioner?.choices?.(ctx.db, coId) ?? {}]);
    return {
      target: targets.filter((t) => t.id !== exceptTargetId).map((t) => ({ value: t.id, label: `${t.description} (${typeLabel(t.provisionerType)})` })),
      service: services.map((s) => ({ value: s.id, label: s.name })),
      group: groups,
      choice,
    };
  }

  async function showTypeChoice(request: FastifyRequest, reply: FastifyReply, co: Co, form: FormState, status = 200) {
    const types = ctx.provisioners.map(typeOption);
    const shown = types.length > 0 ? form : { ...form, error: form.error ?? 'No provisioner type is enabled. Add a provisioner plugin (e.g. ldap-provisioner) to TESSERA_PLUGINS.' };
    return sendPage(ctx, request, reply, (page) => <TargetTypePage page={page} co={co} types={types} form={shown} />, status);
  }

  async function showForm(request: FastifyRequest, reply: FastifyReply, co: Co, actor: Actor, provisioner: Provisioner, target: Target | undefined, form: FormState, status = 200) {
    const fields = describeConfig(provisioner);
    const [groups, references] = await Promise.all([groupOptions(actor, co.id), referenceOptions(actor, co.id, provisioner, target?.id)]);
    return sendPage(
      ctx,
      request,
      reply,
      (page) => <TargetFormPage page={page} co={co} target={target} type={typeOption(provisioner)} fields={fields} form={withoutSecrets(form, fields)} groups={groups} references={references} />,
      status,
    );
  }

  /** An existing target and the provisioner that can edit it (refused when no enabled plugin provides its type). */
  async function editable(actor: Actor, coId: string, targetId: string): Promise<{ target: Target; provisioner: Provisioner }> {
    const target = await getTarget(ctx, actor, coId, targetId);
    const provisioner = provisionerOf(ctx, target.provisionerType);
    if (!provisioner) throw new AppError(CORE_ERRORS.VALIDATION_FAILED, { message: `Targets of type "${target.provisionerType}" cannot be changed while no enabled plugin provides that type` });
    return { target, provisioner };
  }

  app.get<CoRoute>('/cos/:coId/provisioning-targets', async (request, reply) => {
    const { actor, co } = await requireCoAdmin(ctx, request, request.params.coId);
    const [targets, groups, allFailures] = await Promise.all([listTargets(ctx, actor, co.id), groupOptions(actor, co.id), coTargetFailures(ctx, actor, co.id)]);
    const rows = targets.map((target) => {
      const failures = allFailures.filter((f) => f.targetId === target.id);
      return {
        target,
        typeLabel: typeLabel(target.provisionerType),
        groupName: groups.find((g) => g.value === target.provisionGroupId)?.label,
        failed: failures.filter((f) => f.state === 'failed').length,
        retrying: failures.filter((f) => f.state !== 'failed').length,
      };
    });
    return sendPage(ctx, request, reply, (page) => <TargetsListPage page={page} co={co} rows={rows} canCreate={ctx.provisioners.length > 0} />);
  });

  app.get<CoRoute & { Querystring: { provisionerType?: string; choose?: string } }>('/cos/:coId/provisioning-targets/new', async (request, reply) => {
    const { actor, co } = await requireCoAdmin(ctx, request, request.params.coId);
    const query = (request.query ?? {}) as { provisionerType?: unknown; choose?: unknown };
    const chosen = typeof query.provisionerType === 'string' ? query.provisionerType : undefined;
    // With one type there is nothing to choose, unless the person asked to see the choice.
    const only = ctx.provisioners.length === 1 && query.choose === undefined ? ctx.provisioners[0] : undefined;
    const provisioner = chosen ? provisionerOf(ctx, chosen) : only;
    if (!provisioner) {
      if (chosen) return showTypeChoice(request, reply, co, { values: { provisionerType: chosen }, issues: [{ field: 'provisionerType', message: 'Choose one of the enabled types' }] }, 400);
      return showTypeChoice(request, reply, co, emptyForm({ provisionerType: ctx.provisioners[0]?.type ?? '' }));
    }
    const defaults = emptyForm({ provisionerType: provisioner.type, description: '', mode: 'automatic', ordinal: '10', retryIntervalSeconds: '60', maxRetries: '10', provisionGroupId: '', ...configFormValues(describeConfig(provisioner), undefined) });
    return showForm(request, reply, co, actor, provisioner, undefined, defaults);
  });

  app.post<CoRoute>('/cos/:coId/provisioning-targets', async (request, reply) => {
    const { actor, co } = await requireCoAdmin(ctx, request, request.params.coId);
    const values = postedValues(request);
    const provisioner = typeof values.provisionerType === 'string' ? provisionerOf(ctx, values.provisionerType) : undefined;
    if (!provisioner) return showTypeChoice(request, reply, co, { values: { provisionerType: values.provisionerType }, issues: [{ field: 'provisionerType', message: 'Choose one of the enabled types' }] }, 400);
    const fields = describeConfig(provisioner);
    const outcome = await submitForm(targetFormSchema(provisioner, false), values, (input) => createTarget(ctx, actor, co.id, input), { toInput: toTargetInput(fields), fieldOf: configFieldOf });
    if (!outcome.ok) return showForm(request, reply, co, actor, provisioner, undefined, outcome.form, outcome.status);
    return redirectWith(reply, targetHref(co.id, outcome.value.id), { kind: 'success', message: `Provisioning target ${outcome.value.description} created.` });
  });

  app.get<TargetRoute>('/cos/:coId/provisioning-targets/:targetId', async (request, reply) => {
    const { actor, co } = await requireCoAdmin(ctx, request, request.params.coId);
    const target = await getTarget(ctx, actor, co.id, request.params.targetId);
    const provisioner = provisionerOf(ctx, target.provisionerType);
    const [jobs, groups, references] = await Promise.all([targetFailures(ctx, actor, co.id, target.id), groupOptions(actor, co.id), referenceOptions(actor, co.id, provisioner, target.id)]);
    const people = await findPeopleByIds(ctx.db, co.id, [...new Set(jobs.map((j) => j.personId))]);
    const failures: FailureRow[] = jobs.map((j) => ({ ...j, personName: people.get(j.personId)?.displayName }));
    const notices = provisioner?.notices ? await provisioner.notices(ctx.db, target) : [];
    return sendPage(ctx, request, reply, (page) => (
      <TargetPage
        notices={notices}
        page={page}
        co={co}
        target={target}
        typeLabel={typeLabel(target.provisionerType)}
        fields={provisioner ? describeConfig(provisioner) : []}
        groupName={groups.find((g) => g.value === target.provisionGroupId)?.label}
        failures={failures}
        references={references}
        warnings={provisioner?.warnings?.(target) ?? []}
      />
    ));
  });

  app.get<TargetRoute>('/cos/:coId/provisioning-targets/:targetId/edit', async (request, reply) => {
    const { actor, co } = await requireCoAdmin(ctx, request, request.params.coId);
    const { target, provisioner } = await editable(actor, co.id, request.params.targetId);
    return showForm(request, reply, co, actor, provisioner, target, emptyForm(formValuesOf(target, describeConfig(provisioner))));
  });

  app.post<TargetRoute>('/cos/:coId/provisioning-targets/:targetId/edit', async (request, reply) => {
    const { actor, co } = await requireCoAdmin(ctx, request, request.params.coId);
    const { target, provisioner } = await editable(actor, co.id, request.params.targetId);
    const fields = describeConfig(provisioner);
    const outcome = await submitForm(targetFormSchema(provisioner, true), postedValues(request), (input) => updateTarget(ctx, actor, co.id, target.id, input), {
      toInput: toTargetInput(fields),
      fieldOf: configFieldOf,
    });
    if (!outcome.ok) return showForm(request, reply, co, actor, provisioner, target, outcome.form, outcome.status);
    return redirectWith(reply, targetHref(co.id, target.id), { kind: 'success', message: `Provisioning target ${outcome.value.description} saved.` });
  });

  app.get<TargetRoute>('/cos/:coId/provisioning-targets/:targetId/delete', async (request, reply) => {
    const { actor, co } = await requireCoAdmin(ctx, request, request.params.coId);
    const target = await getTarget(ctx, actor, co.id, request.params.targetId);
    return sendPage(ctx, request, reply, (page) => <TargetDeletePage page={page} co={co} target={target} />);
  });

  app.post<TargetRoute>('/cos/:coId/provisioning-targets/:targetId/delete', async (request, reply) => {
    const { actor, co } = await requireCoAdmin(ctx, request, request.params.coId);
    const target = await getTarget(ctx, actor, co.id, request.params.targetId);
    try {
      await deleteTarget(ctx, actor, co.id, target.id);
    } catch (e) {
      // Another target that needs this one (e.g. a token target on its LDAP target) refuses: say why.
      if (e instanceof AppError && (e.kind === 'BAD_REQUEST' || e.kind === 'UNPROCESSABLE' || e.kind === 'CONFLICT')) {
        return redirectWith(reply, targetHref(co.id, target.id), { kind: 'error', message: e.message });
      }
      throw e;
    }
    return redirectWith(reply, targetsHref(co.id), { kind: 'success', message: `Provisioning target ${target.description} deleted.` });
  });

  app.post<{ Params: { coId: string; targetId: string; jobId: string } }>('/cos/:coId/provisioning-targets/:targetId/failures/:jobId/retry', async (request, reply) => {
    const { actor, co } = await requireCoAdmin(ctx, request, request.params.coId);
    const target = await getTarget(ctx, actor, co.id, request.params.targetId);
    await retryJob(ctx, actor, co.id, request.params.jobId);
    ctx.nudgeWorker();
    return redirectWith(reply, targetHref(co.id, target.id), { kind: 'success', message: 'The job is queued again with fresh retries.' });
  });
}
