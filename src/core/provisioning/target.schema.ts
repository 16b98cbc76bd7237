import { z } from 'zod';
import { optionalText, text } from '../http/validation.ts';
import { PROVISIONING_MODES } from './provisioning.table.ts';

export const targetInput = z.object({
  /** The provisioner type (`Provisioner.type`, e.g. `ldap`); it cannot change once the target exists. */
  provisionerType: z.string().trim().min(1, 'Required'),
  description: text({ min: 1, max: 256 }),
  mode: z.enum(PROVISIONING_MODES).default('automatic'),
  ordinal: z.coerce.number().int('A whole number').min(0).max(10000).default(10),
  retryIntervalSeconds: z.coerce.number().int().min(1, 'At least 1 second').max(86400).default(60),
  maxRetries: z.coerce.number().int().min(0).max(1000).default(10),
  provisionGroupId: optionalText({ max: 64 }),
  /** The provisioner's settings; validated by its own schema. */
  config: z.record(z.string(), z.unknown()).default({}),
});
export type TargetInput = z.infer<typeof targetInput>;

export const targetResponse = z.object({
  id: z.string(),
  coId: z.string(),
  provisionerType: z.string(),
  description: z.string(),
  mode: z.enum(PROVISIONING_MODES),
  ordinal: z.number(),
  retryIntervalSeconds: z.number(),
  maxRetries: z.number(),
  provisionGroupId: z.string().nullable(),
  /** Settings with secret fields replaced by "(set)". */
  config: z.record(z.string(), z.unknown()),
});

export const personStateResponse = z.object({
  targetId: z.string(),
  targetDescription: z.string(),
  status: z.enum(['provisioned', 'removed', 'failed', 'pending', 'never']),
  targetKey: z.string().nullable(),
  lastError: z.string().nullable(),
  lastAttemptAt: z.string().nullable(),
  lastSuccessAt: z.string().nullable(),
  pendingJobs: z.number(),
});

export const batchResponse = z.object({
  batchId: z.string(),
  total: z.number(),
  done: z.number(),
  failed: z.number(),
  pending: z.number(),
});
