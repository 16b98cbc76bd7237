import { z } from 'zod';
import { paragraphText, text } from '../http/validation.ts';

export const coInput = z.object({
  name: text({ min: 1, max: 128 }),
  description: paragraphText({ max: 1024 }).default(''),
});
export const coUpdate = coInput.extend({ status: z.enum(['active', 'suspended']) }).partial();
export type CoInput = z.infer<typeof coInput>;

export const coResponse = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  status: z.enum(['active', 'suspended']),
  isPlatform: z.boolean(),
  createdAt: z.string(),
});

/**
 * The API's PATCH body: only the fields sent change. Unlike `coUpdate` (which forms use), nothing
 * has a default, so an omitted description is kept rather than emptied.
 */
export const coPatchInput = z.object({
  name: text({ min: 1, max: 128 }).optional(),
  description: paragraphText({ max: 1024 }).optional(),
  status: z.enum(['active', 'suspended']).optional(),
});

export const coListResponse = z.object({ items: z.array(coResponse) });
