import type { FastifyInstance } from 'fastify';
import { apiRoute, coParams, idParam } from '../http/api-route.ts';
import type { RouteContext } from '../http/route-context.ts';
import { batchProgress, personProvisioningStates, requestReprovision, retryJob, targetFailures } from './provisioning.service.ts';
import { jobListResponse, personStateListResponse, reprovisionInput, reprovisionResponse, retryResponse, targetListResponse } from './provisioning.schema.ts';
import { targetInput, targetResponse } from './target.schema.ts';
import { createTarget, deleteTarget, getTarget, listTargets, updateTarget } from './target.service.ts';

const TARGETS = '/api/v1/cos/:coId/provisioning-targets';
const TARGET = `${TARGETS}/:targetId`;
const targetParams = coParams.extend({ targetId: idParam });

/**
 * Provisioning for CO admins and privileged API users: targets (secret settings are write-only),
 * their failures, retries by hand, reprovisioning with progress, and each person's states. Ids of
 * another CO answer 404; an unprivileged API user of the CO gets 403.
 */
export function registerProvisioningApi(app: FastifyInstance, ctx: RouteContext): void {
  const tag = 'Provisioning';

  apiRoute(app, ctx, {
    method: 'GET',
    url: TARGETS,
    operationId: 'listProvisioningTargets',
    summary: 'List the CO’s provisioning targets in their order (secret settings read "(set)")',
    tag,
    params: coParams,
    response: targetListResponse,
    co: 'admin',
    handler: async ({ actor, co }) => ({ items: await listTargets(ctx, actor, co.id) }),
  });

  apiRoute(app, ctx, {
    method: 'POST',
    url: TARGETS,
    operationId: 'createProvisioningTarget',
    summary: 'Create a provisioning target; `config` follows the provisioner type’s settings (errors name `config.<field>`)',
    tag,
    params: coParams,
    body: targetInput,
    response: targetResponse,
    status: 201,
    co: 'admin',
    handler: async ({ actor, body, co }) => createTarget(ctx, actor, co.id, body),
  });

  apiRoute(app, ctx, {
    method: 'GET',
    url: TARGET,
    operationId: 'getProvisioningTarget',
    summary: 'Read a provisioning target (secret settings read "(set)")',
    tag,
    params: targetParams,
    response: targetResponse,
    co: 'admin',
    handler: async ({ actor, params, co }) => getTarget(ctx, actor, co.id, params.targetId),
  });

  apiRoute(app, ctx, {
    method: 'PUT',
    url: TARGET,
    operationId: 'updateProvisioningTarget',
    summary: 'Replace a target’s settings; a secret setting omitted, empty or "(set)" keeps its value. The type cannot change.',
    tag,
    params: targetParams,
    body: targetInput,
    response: targetResponse,
    co: 'admin',
    handler: async ({ actor, params, body, co }) => updateTarget(ctx, actor, co.id, params.targetId, body),
  });

  apiRoute(app, ctx, {
    method: 'DELETE',
    url: TARGET,
    operationId: 'deleteProvisioningTarget',
    summary: 'Delete a provisioning target with its jobs and recorded states (what it wrote stays in the directory)',
    tag,
    params: targetParams,
    status: 204,
    errors: [422],
    co: 'admin',
    handler: async ({ actor, params, co }) => deleteTarget(ctx, actor, co.id, params.targetId),
  });

  apiRoute(app, ctx, {
    method: 'GET',
    url: `${TARGET}/failures`,
    operationId: 'listProvisioningTargetFailures',
    summary: 'A target’s failures: jobs waiting for a retry and jobs that used up their retries',
    tag,
    params: targetParams,
    response: jobListResponse,
    co: 'admin',
    handler: async ({ actor, params, co }) => ({ items: await targetFailures(ctx, actor, co.id, params.targetId) }),
  });

  apiRoute(app, ctx, {
    method: 'POST',
    url: '/api/v1/cos/:coId/provisioning-jobs/:jobId/retry',
    operationId: 'retryProvisioningJob',
    summary: 'Put a failed job back in the queue with fresh retries',
    tag,
    params: coParams.extend({ jobId: idParam }),
    response: retryResponse,
    status: 202,
    co: 'admin',
    handler: async ({ actor, params, co }) => {
      await retryJob(ctx, actor, co.id, params.jobId);
      return { jobId: params.jobId, state: 'pending' as const };
    },
  });

  apiRoute(app, ctx, {
    method: 'POST',
    url: '/api/v1/cos/:coId/reprovision',
    operationId: 'reprovision',
    summary: 'Reprovision the CO (or one person) to every enabled target (or one); manual targets included. Follow the batch’s progress.',
    tag,
    params: coParams,
    body: reprovisionInput,
    response: reprovisionResponse,
    status: 202,
    co: 'admin',
    handler: async ({ actor, body, co }) => {
      const batch = await requestReprovision(ctx, actor, co.id, { ...(body.personId ? { personId: body.personId } : {}), ...(body.targetId ? { targetId: body.targetId } : {}) });
      ctx.nudgeWorker();
      return batch;
    },
  });

  apiRoute(app, ctx, {
    method: 'GET',
    url: '/api/v1/cos/:coId/reprovision/:batchId',
    operationId: 'getReprovisionProgress',
    summary: 'Progress of a reprovisioning request: done + failed + pending = total',
    tag,
    params: coParams.extend({ batchId: idParam }),
    response: reprovisionResponse,
    co: 'admin',
    handler: async ({ actor, params, co }) => batchProgress(ctx, actor, co.id, params.batchId),
  });

  apiRoute(app, ctx, {
    method: 'GET',
    url: '/api/v1/cos/:coId/people/:personId/provisioning',
    operationId: 'getPersonProvisioning',
    summary: 'What each target holds for the person: provisioned, removed, pending, failed (with the error) or never',
    tag,
    params: coParams.extend({ personId: idParam }),
    response: personStateListResponse,
    co: 'admin',
    handler: async ({ actor, params, co }) => ({ items: await personProvisioningStates(ctx, actor, co.id, params.personId) }),
  });
}
