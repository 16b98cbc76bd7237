import { z } from 'zod';
import { batchResponse, personStateResponse, targetResponse } from './target.schema.ts';

export const targetListResponse = z.object({ items: z.array(targetResponse) });

/** A job as operators see it: on a target's failures list. */
export const jobResponse = z.object({
  id: z.string(),
  personId: z.string(),
  kind: z.enum(['sync', 'delete']),
  state: z.enum(['pending', 'running', 'succeeded', 'failed', 'superseded']),
  attempts: z.number(),
  lastError: z.string().nullable(),
  /** When a pending job runs next. */
  runAfter: z.string(),
  updatedAt: z.string(),
});
export const jobListResponse = z.object({ items: z.array(jobResponse) });

export const retryResponse = z.object({ jobId: z.string(), state: z.literal('pending') });

/** Reprovision the whole CO, or one person, to every target, or one target. */
export const reprovisionInput = z.object({
  personId: z.string().trim().min(1).max(64).optional(),
  targetId: z.string().trim().min(1).max(64).optional(),
});

export const reprovisionResponse = batchResponse.extend({
  /** Pending jobs that failed at least once and wait for their next attempt. */
  retrying: z.number(),
});

export const personStateListResponse = z.object({ items: z.array(personStateResponse) });
