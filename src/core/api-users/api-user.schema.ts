import { z } from 'zod';
import { checkbox, optionalDateTime } from '../http/validation.ts';

export const apiUserInput = z.object({
  username: z.string().trim().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$/, '3 to 64 letters, digits, ".", "_" or "-"'),
  privileged: checkbox.default(false),
  validFrom: optionalDateTime,
  validThrough: optionalDateTime,
  allowedAddresses: z
    .string()
    .trim()
    .max(1024)
    .default('')
    .refine((v) => v === '' || v.split(',').every((a) => /^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(a.trim())), 'Comma-separated IP addresses or CIDR ranges'),
});
export type ApiUserInput = z.infer<typeof apiUserInput>;

export const apiUserResponse = z.object({
  id: z.string(),
  coId: z.string(),
  username: z.string(),
  privileged: z.boolean(),
  status: z.enum(['active', 'suspended']),
  validFrom: z.string().nullable(),
  validThrough: z.string().nullable(),
  allowedAddresses: z.string(),
  createdAt: z.string(),
});

/** What an API user learns about itself: its own record and whether it reaches every CO. */
export const apiUserSelfResponse = apiUserResponse.extend({ platform: z.boolean() });
