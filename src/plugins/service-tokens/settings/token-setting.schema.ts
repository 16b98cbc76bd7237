import { z } from 'zod';
import { checkbox } from '../../../core/http/validation.ts';
import { customTokenTypeInput } from '../formats/token-type.schema.ts';

export const settingInput = z.object({
  enabled: checkbox.default(false),
  tokenType: z.string().trim().min(1, 'Required'),
  /** Needed when tokenType is `custom`: alphabet, length, group size, prefix, checksum. */
  customType: customTokenTypeInput.nullable().optional(),
  storageScheme: z.string().trim().min(1, 'Required'),
  maxLifetimeDays: z.preprocess(
    (v) => (v === '' || v === undefined ? null : v),
    z.coerce.number().int('Whole days').min(1, 'At least 1 day').max(3650, 'At most 3650 days').nullable(),
  ),
  maxTokensPerPerson: z.coerce.number().int('A whole number').min(1, 'At least 1').max(100, 'At most 100').default(5),
  generation: z.enum(['self_and_admins', 'admins_only']).default('self_and_admins'),
  acknowledgePlaintext: checkbox.default(false),
  /** Days before expiry at which people are warned: "30, 7, 1" in forms, or an array in JSON. */
  expiryWarningDays: z
    .preprocess(
      (v) => (typeof v === 'string' ? (v.trim() === '' ? [] : v.split(',').map((d) => d.trim())) : v),
      z.array(z.coerce.number().int('Whole days').min(1, 'At least 1 day').max(365, 'At most 365 days')).max(10, 'At most 10 warnings'),
    )
    .default([30, 7, 1]),
  /**
   * Revoke tokens unused for this many days (last use: the verification API's per token, or a bind
   * at the person's LDAP service entry), after a notice; empty: never. At least 2 days, so the notice
   * comes before (see notices/unused-tokens.ts).
   */
  revokeUnusedAfterDays: z.preprocess(
    (v) => (v === '' || v === undefined ? null : v),
    z.coerce.number().int('Whole days').min(2, 'At least 2 days').max(3650, 'At most 3650 days').nullable(),
  ).default(null),
  /** Which notices people get for this service; a form sends the checked boxes (one value or several). */
  notices: z
    .preprocess((v) => (typeof v === 'string' ? [v] : v), z.array(z.enum(['created', 'revoked', 'expiring'])))
    .default(['created', 'revoked', 'expiring']),
});
export type SettingInput = z.infer<typeof settingInput>;

export const settingResponse = z.object({
  serviceId: z.string(),
  enabled: z.boolean(),
  tokenType: z.string(),
  customType: customTokenTypeInput.nullable(),
  storageScheme: z.string(),
  maxLifetimeDays: z.number().nullable(),
  maxTokensPerPerson: z.number(),
  generation: z.enum(['self_and_admins', 'admins_only']),
  plaintextAcknowledged: z.boolean(),
  expiryWarningDays: z.array(z.number()),
  noticesOff: z.array(z.enum(['created', 'revoked', 'expiring'])),
  revokeUnusedAfterDays: z.number().nullable(),
  updatedAt: z.string().nullable(),
});
