import { isIP } from 'node:net';
import { PERSON_STATUSES } from '../../../core/people/person.table.ts';

/** The verification request body, as `verifyInput` (verification.api.ts) describes it. */
export interface VerifyInput {
  identifier: string;
  token: string;
  clientAddress?: string | undefined;
}

const okText = (v: unknown, max: number): v is string => typeof v === 'string' && v.length >= 1 && v.length <= max && !v.includes('\u0000');

/**
 * Whether a parsed JSON body is a well-formed verification request, checked without allocating:
 * identifier 1–256 characters, token 1–512, clientAddress (optional) an IPv4 or IPv6 address of at
 * most 64 characters, no NUL anywhere, no other key. The same rules as the zod schema, which runs
 * only when this says no (to name the field at fault, or to accept what this is too strict about).
 */
export function isPlainVerifyInput(body: unknown): body is VerifyInput {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return false;
  let keys = 0;
  for (const key in body) {
    if (key !== 'identifier' && key !== 'token' && key !== 'clientAddress') return false;
    keys++;
  }
  const b = body as Record<string, unknown>;
  if (!okText(b.identifier, 256) || !okText(b.token, 512)) return false;
  if (b.clientAddress === undefined) return keys === 2;
  return okText(b.clientAddress, 64) && isIP(b.clientAddress) !== 0 && keys === 3;
}

/** The 200 answer of the verification API as a JSON schema: Fastify compiles it into a serialiser once. */
export const VERIFY_RESPONSE_JSON_SCHEMA = {
  type: 'object',
  required: ['valid', 'person', 'token'],
  additionalProperties: false,
  properties: {
    valid: { type: 'boolean' },
    person: {
      type: ['object', 'null'],
      required: ['id', 'identifier', 'status', 'coId'],
      properties: { id: { type: 'string' }, identifier: { type: 'string' }, status: { type: 'string', enum: [...PERSON_STATUSES] }, coId: { type: 'string' } },
    },
    token: {
      type: ['object', 'null'],
      required: ['id', 'expiresAt'],
      properties: { id: { type: 'string' }, expiresAt: { type: ['string', 'null'] } },
    },
  },
} as const;
