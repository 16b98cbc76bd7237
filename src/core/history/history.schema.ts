import { z } from 'zod';

export const historyQuery = z.object({
  personId: z.string().trim().max(64).optional(),
  serviceId: z.string().trim().max(64).optional(),
  page: z.coerce.number().int().min(1).max(100000).default(1),
  pageSize: z.coerce.number().int().min(1).max(200).default(50),
});

export const historyEntryResponse = z.object({
  id: z.string(),
  coId: z.string(),
  personId: z.string().nullable(),
  groupId: z.string().nullable(),
  serviceId: z.string().nullable(),
  actorLabel: z.string(),
  actorPersonId: z.string().nullable(),
  actorApiUserId: z.string().nullable(),
  action: z.string(),
  comment: z.string(),
  createdAt: z.string(),
});

export const historyListResponse = z.object({
  items: z.array(historyEntryResponse),
  page: z.number().int(),
  pageSize: z.number().int(),
});
