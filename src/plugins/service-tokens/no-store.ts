import type { FastifyReply } from 'fastify';

/** Responses that carry or may carry a secret must never be stored by a browser or a proxy. */
export function noStore(reply: FastifyReply): void {
  reply.header('Cache-Control', 'no-store');
  reply.header('Pragma', 'no-cache');
}
