import type { FastifyInstance } from 'fastify';

/**
 * Once the app is closing (SIGTERM), every response says `Connection: close`. Node's
 * `server.close()` ends the connections idle at that moment only; a keep-alive connection whose
 * request was under way would otherwise stay open after its answer until the client or the
 * keep-alive timeout ends it, and `app.close()` would wait that long.
 */
export function closeConnectionsWhenClosing(app: FastifyInstance): void {
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_request, reply, payload) => {
    if (closing) reply.header('Connection', 'close');
    return payload;
  });
}
