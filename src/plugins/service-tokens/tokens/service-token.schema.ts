import { z } from 'zod';
import { optionalDateTime, text } from '../../../core/http/validation.ts';

export const generateInput = z.object({
  serviceId: z.string().trim().min(1, 'Required'),
  label: text({ max: 64 }).pipe(z.string().min(1, 'Give the token a name, e.g. the device it is for')),
  /** Lifetime in days from now; omitted means the service's maximum (or no expiry if it has none). */
  lifetimeDays: z.preprocess((v) => (v === '' || v === undefined ? undefined : v), z.coerce.number().int('Whole days').min(1, 'At least 1 day').max(3650).optional()),
  expiresAt: optionalDateTime,
  /** A token to revoke in the same step (when the maximum is reached). */
  replaceTokenId: z.preprocess((v) => (v === '' ? undefined : v), z.string().optional()),
  /** The form's one-time value; API callers may send an idempotency key or omit it. */
  nonce: z.preprocess((v) => (v === '' ? undefined : v), z.string().min(8).max(128).optional()),
});
export type GenerateInput = z.infer<typeof generateInput>;

export const revokeInput = z.object({ reason: text({ max: 256 }).default('') });

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
  /** Last bind at the person's LDAP service entry of this service: per person and service, read periodically (see docs). */
  lastUsedViaLdap: z.string().nullable(),
  revokedAt: z.string().nullable(),
  revokedBy: z.string().nullable(),
  revokedReason: z.string().nullable(),
  state: z.enum(['active', 'expired', 'revoked', 'suspended']),
});

export const generatedResponse = z.object({ token: tokenResponse, secret: z.string() });
