import { z } from 'zod';
import { checkbox, optionalText, text } from '../http/validation.ts';
import { identifierValue, identifierValueIssue } from '../text.ts';
import { PERSON_STATUSES } from './person.table.ts';

export const BUILT_IN_IDENTIFIER_TYPES = ['uid', 'eppn', 'mail', 'oidcsub', 'epuid', 'orcid', 'network', 'enterprise'] as const;

export const identifierTypeName = z
  .string()
  .trim()
  .regex(/^[a-z][a-z0-9_-]{0,31}$/, 'Lowercase letters, digits, "-" and "_", starting with a letter');

export const nameInput = z.object({
  given: text({ min: 1, max: 128 }),
  middle: optionalText({ max: 128 }),
  family: optionalText({ max: 128 }),
  suffix: optionalText({ max: 32 }),
  type: z.enum(['official', 'preferred', 'alternate']).default('official'),
  primary: checkbox.default(false),
});

/**
 * An identifier: its value under the text rule (NFC, one line) and short enough to name a
 * directory entry for its type (`identifierValueIssue`). Twins are found by `identifierKey`.
 */
export const identifierInput = z
  .object({
    identifier: identifierValue,
    type: identifierTypeName,
    login: checkbox.default(false),
  })
  .superRefine((v, ctx) => {
    const issue = identifierValueIssue(v.type, v.identifier);
    if (issue) ctx.addIssue({ code: 'custom', path: ['identifier'], message: issue });
  });

export const emailInput = z.object({
  mail: z.string().normalize('NFC').trim().email('Not an email address').max(256),
  type: z.enum(['official', 'preferred', 'personal', 'delivery']).default('official'),
  verified: checkbox.default(false),
});

export const personStatus = z.enum(PERSON_STATUSES);

export const personCreateInput = z.object({
  status: personStatus.default('active'),
  name: nameInput.omit({ primary: true, type: true }),
  identifiers: z.array(identifierInput).max(20).default([]),
  emails: z.array(emailInput).max(20).default([]),
});
export type PersonCreateInput = z.infer<typeof personCreateInput>;

export const personStatusInput = z.object({ status: personStatus });

export const listPeopleQuery = z.object({
  q: z.string().trim().max(256).optional(),
  page: z.coerce.number().int().min(1).max(100000).default(1),
  pageSize: z.coerce.number().int().min(1).max(200).default(25),
});

export const nameResponse = z.object({ id: z.string(), given: z.string(), middle: z.string().nullable(), family: z.string().nullable(), suffix: z.string().nullable(), type: z.string(), primary: z.boolean(), sourceId: z.string().nullable().optional() });
export const identifierResponse = z.object({ id: z.string(), identifier: z.string(), type: z.string(), login: z.boolean(), status: z.string(), sourceId: z.string().nullable().optional() });
export const emailResponse = z.object({ id: z.string(), mail: z.string(), type: z.string(), verified: z.boolean(), sourceId: z.string().nullable().optional() });

export const personResponse = z.object({
  id: z.string(),
  coId: z.string(),
  status: personStatus,
  displayName: z.string(),
  names: z.array(nameResponse),
  identifiers: z.array(identifierResponse),
  emails: z.array(emailResponse),
  /** The source that owns the person (src/core/sources/); null for a person made in Tessera. */
  source: z.object({ id: z.string(), name: z.string(), externalId: z.string() }).nullable().optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const personListResponse = z.object({
  items: z.array(personResponse),
  /** Exact up to API_COUNTED_UP_TO; beyond, that number, with `totalIsAtLeast`. */
  total: z.number().int(),
  totalIsAtLeast: z.boolean(),
  page: z.number().int(),
  pageSize: z.number().int(),
});

export const identifierTypeInput = z.object({ name: identifierTypeName });
export const identifierTypeResponse = z.object({ name: z.string(), builtIn: z.boolean() });
export const identifierTypeListResponse = z.object({ items: z.array(identifierTypeResponse) });
