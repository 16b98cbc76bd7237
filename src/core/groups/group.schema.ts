import { z } from 'zod';
import { checkbox, optionalDateTime, text } from '../http/validation.ts';

export const groupInput = z.object({
  name: text({ min: 1, max: 128 }).refine((v) => !v.startsWith('CO:'), 'Names starting with "CO:" are reserved'),
  description: text({ max: 1024 }).default(''),
  status: z.enum(['active', 'suspended']).default('active'),
});
export type GroupInput = z.infer<typeof groupInput>;

export const membershipInput = z
  .object({
    personId: z.string().trim().min(1, 'Required'),
    member: checkbox.default(true),
    owner: checkbox.default(false),
    validFrom: optionalDateTime,
    validThrough: optionalDateTime,
  })
  .refine((m) => !m.validFrom || !m.validThrough || m.validFrom < m.validThrough, { message: 'Must be after "valid from"', path: ['validThrough'] });
export type MembershipInput = z.infer<typeof membershipInput>;

export const groupResponse = z.object({
  id: z.string(),
  coId: z.string(),
  name: z.string(),
  description: z.string(),
  status: z.enum(['active', 'suspended']),
  type: z.enum(['standard', 'admins', 'members']),
  createdAt: z.string(),
  /** The source that owns the group (src/core/sources/); null when made in Tessera. */
  sourceId: z.string().nullable().optional(),
});

export const membershipResponse = z.object({
  id: z.string(),
  groupId: z.string(),
  personId: z.string(),
  member: z.boolean(),
  owner: z.boolean(),
  validFrom: z.string().nullable(),
  validThrough: z.string().nullable(),
  /** The source that owns the membership; null when made in Tessera. */
  sourceId: z.string().nullable().optional(),
});

export const groupListResponse = z.object({ items: z.array(groupResponse) });
/** A page of a group's memberships (API): oldest first; `total` is exact up to API_COUNTED_UP_TO, beyond it that number with `totalIsAtLeast`. */
export const listMembershipsQuery = z.object({
  page: z.coerce.number().int().min(1).max(1000000).default(1),
  pageSize: z.coerce.number().int().min(1).max(1000).default(100),
});
export const membershipListResponse = z.object({ items: z.array(membershipResponse), total: z.number().int(), totalIsAtLeast: z.boolean(), page: z.number().int(), pageSize: z.number().int() });
