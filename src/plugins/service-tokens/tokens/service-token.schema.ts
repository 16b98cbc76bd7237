import { z } from 'zod';
import { checkbox, optionalDateTime } from '../../core/http/validation.ts';
import { customTokenTypeInput } from './crypto/token-type.schema.ts';

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
  updatedAt: z.string().nullable(),
});

export const generateInput = z.object({
  serviceId: z.string().trim().min(1, 'Required'),
  label: z.string().trim().min(1, 'Give the token a name, e.g. the device it is for').max(64, 'At most 64 characters'),
  /** Lifetime in days from now; omitted means the service's maximum (or no expiry if it has none). */
  lifetimeDays: z.preprocess((v) => (v === '' || v === undefined ? undefined : v), z.coerce.number().int('Whole days').min(1, 'At least 1 day').max(3650).optional()),
  expiresAt: optionalDateTime,
  /** A token to revoke in the same step (when the maximum is reached). */
  replaceTokenId: z.preprocess((v) => (v === '' ? undefined : v), z.string().optional()),
  /** The form's one-time value; API callers may send an idempotency key or omit it. */
  nonce: z.preprocess((v) => (v === '' ? undefined : v), z.string().min(8).max(128).optional()),
});
export type GenerateInput = z.infer<typeof generateInput>;

export const revokeInput = z.object({ reason: z.string().trim().max(256).default('') });

export const tokenResponse = z.object({
  id: z.string(),
  personId: z.string(),
  serviceId: z.string(),
  label: z.string(),
  tokenType: z.string(),
  storageScheme: z.string(),
  displayHint: z.string(),
  createdBy: z.string(),
  createdAt: z.string(),
  expiresAt: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
  lastUsedAddress: z.string().nullable(),
  revokedAt: z.string().nullable(),
  revokedBy: z.string().nullable(),
  revokedReason: z.string().nullable(),
  state: z.enum(['active', 'expired', 'revoked', 'suspended']),
});

export const generatedResponse = z.object({ token: tokenResponse, secret: z.string() });
