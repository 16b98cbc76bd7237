import { z } from 'zod';
import { text } from '../http/validation.ts';

export const coInput = z.object({
  name: text({ min: 1, max: 128 }),
  description: text({ max: 1024 }).default(''),
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
