import { z } from 'zod';
import { identifierTypeName } from '../people/person.schema.ts';
import { optionalText, paragraphText, text } from '../http/validation.ts';
import { SERVICE_VISIBILITIES } from './co-service.table.ts';

const optionalUrl = z.preprocess(
  (v) => (typeof v === 'string' && v.trim() === '' ? null : v),
  z.string().trim().max(1024).url('Not a URL').refine((u) => /^https?:\/\//i.test(u), 'Only http and https URLs').nullable().optional(),
);

export const coServiceInput = z.object({
  name: text({ min: 1, max: 128 }),
  description: paragraphText({ max: 2048 }).default(''),
  shortLabel: z.string().trim().regex(/^[A-Za-z0-9]{1,64}$/, 'Letters and digits only (1 to 64)'),
  coGroupId: optionalText({ max: 64 }),
  serviceUrl: optionalUrl,
  contactEmail: z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? null : v), z.string().trim().email('Not an email address').nullable().optional()),
  logoUrl: optionalUrl,
  entitlementUri: optionalText({ max: 1024 }),
  visibility: z.enum(SERVICE_VISIBILITIES).default('co_member'),
  identifierType: identifierTypeName.default('uid'),
  status: z.enum(['active', 'suspended']).default('active'),
});
export type CoServiceInput = z.infer<typeof coServiceInput>;

export const coServiceResponse = z.object({
  id: z.string(),
  coId: z.string(),
  name: z.string(),
  description: z.string(),
  shortLabel: z.string(),
  coGroupId: z.string().nullable(),
  serviceUrl: z.string().nullable(),
  contactEmail: z.string().nullable(),
  logoUrl: z.string().nullable(),
  entitlementUri: z.string().nullable(),
  visibility: z.enum(SERVICE_VISIBILITIES),
  identifierType: z.string(),
  status: z.enum(['active', 'suspended']),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const coServiceListResponse = z.object({ items: z.array(coServiceResponse) });
