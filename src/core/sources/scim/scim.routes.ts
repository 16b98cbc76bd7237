import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RouteContext } from '../../http/route-context.ts';
import { ScimAuthenticator } from './scim-auth.ts';
import { MAX_SCIM_BODY_BYTES, resourceTypes, schemas, serviceProviderConfig } from './scim-discovery.ts';
import { invalidSyntax, ScimError } from './scim-error.ts';
import { createGroup, deleteGroup, getGroup, listGroups, patchGroup, replaceGroup } from './scim-groups.service.ts';
import { projectionOf } from './scim-resource.ts';
import type { ScimSource } from './scim-source.ts';
import { translateWriteError } from './scim-write-errors.ts';
import { registerScimTokenApi } from './scim-token.api.ts';
import { registerScimTokenRoutes } from './scim-token.routes.tsx';
import { createUser, deleteUser, getUser, listUsers, patchUser, replaceUser } from './scim-users.service.ts';

const SCIM_TYPE = 'application/scim+json; charset=utf-8';

type Params = { sourceId: string; id?: string };

/** Any error → a SCIM error body (RFC 7644 §3.12); unknown errors are a logged 500 without detail. */
function toScimError(error: unknown, request: FastifyRequest): ScimError {
  const translated = translateWriteError(error);
  if (translated instanceof ScimError) return translated;
  const fe = translated as FastifyError;
  if (fe.statusCode === 413) return new ScimError(413, undefined, `The request body is larger than ${MAX_SCIM_BODY_BYTES} bytes`);
  if (fe.statusCode === 415) return new ScimError(415, undefined, 'Send application/scim+json or application/json');
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) return invalidSyntax(fe.statusCode === 400 ? 'The body is not valid JSON' : fe.message);
  request.log.error({ err: error }, 'unhandled SCIM error');
  return new ScimError(500, undefined, `Something went wrong on our side; request id ${request.id}`);
}

function sendScimError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const e = toScimError(error, request);
  for (const [k, v] of Object.entries(e.headers)) reply.header(k, v);
  return reply.code(e.status).type(SCIM_TYPE).send(JSON.stringify(e.body()));
}

/**
 * The SCIM 2.0 service provider of every `scim` source, at `/scim/v2/<source id>/…` (RFC 7644):
 * Users, Groups, ServiceProviderConfig, ResourceTypes, Schemas. Each request authenticates by the
 * source's bearer token (not by session or API user), takes application/scim+json or
 * application/json up to MAX_SCIM_BODY_BYTES, and every error answers a SCIM error body. Also
 * registers the REST API and the web pages of SCIM tokens (scim-token.api.ts, scim-token.routes.tsx).
 */
export async function registerScimRoutes(app: FastifyInstance, ctx: RouteContext): Promise<void> {
  registerScimTokenApi(app, ctx);
  registerScimTokenRoutes(app, ctx);
  const auth = new ScimAuthenticator(ctx);
  const sources = new WeakMap<FastifyRequest, ScimSource>();
  const sourceOf = (request: FastifyRequest): ScimSource => sources.get(request)!;

  await app.register(
    async (scope) => {
      scope.addHook('onRoute', (route) => {
        route.config = { ...route.config, api: true, ownCredentials: true };
        route.bodyLimit = MAX_SCIM_BODY_BYTES;
      });
      scope.addContentTypeParser('application/scim+json', { parseAs: 'string', bodyLimit: MAX_SCIM_BODY_BYTES }, (_request, body, done) => {
        if (body === '') return done(null, undefined);
        try {
          done(null, JSON.parse(body.toString()));
        } catch {
          done(invalidSyntax('The body is not valid JSON'), undefined);
        }
      });
      scope.setErrorHandler((error, request, reply) => sendScimError(error, request, reply));
      scope.setNotFoundHandler((request, reply) => sendScimError(new ScimError(404, undefined, `No SCIM endpoint ${request.method} ${request.url.split('?')[0]}`), request, reply));
      // Before the body is read: a caller without this source's token gets nothing parsed.
      scope.addHook('onRequest', async (request) => {
        sources.set(request, await auth.authenticate(request, (request.params as Params).sourceId));
      });
      const send = (reply: FastifyReply, status: number, body: unknown) => reply.code(status).type(SCIM_TYPE).header('Cache-Control', 'no-store').send(JSON.stringify(body));
      const query = (request: FastifyRequest) => (request.query ?? {}) as Record<string, unknown>;
      const id = (request: FastifyRequest) => (request.params as Params).id!;

      scope.get('/ServiceProviderConfig', async (request, reply) => send(reply, 200, serviceProviderConfig(sourceOf(request).base)));
      scope.get('/ResourceTypes', async (request, reply) => send(reply, 200, resourceTypes(sourceOf(request).base)));
      scope.get<{ Params: Params }>('/ResourceTypes/:id', async (request, reply) => {
        const found = resourceTypes(sourceOf(request).base, id(request));
        if (!found) throw new ScimError(404, undefined, `No resource type ${id(request)}`);
        return send(reply, 200, found);
      });
      scope.get('/Schemas', async (request, reply) => send(reply, 200, schemas(sourceOf(request).base)));
      scope.get<{ Params: Params }>('/Schemas/:id', async (request, reply) => {
        const found = schemas(sourceOf(request).base, id(request));
        if (!found) throw new ScimError(404, undefined, `No schema ${id(request)}`);
        return send(reply, 200, found);
      });

      const created = (request: FastifyRequest, reply: FastifyReply, resource: Record<string, unknown>) => {
        const endpoint = (resource.meta as { resourceType: string }).resourceType === 'User' ? 'Users' : 'Groups';
        return send(reply.header('Location', `${sourceOf(request).base.baseUrl}/${endpoint}/${String(resource.id)}`), 201, resource);
      };
      scope.get('/Users', async (request, reply) => send(reply, 200, await listUsers(ctx, sourceOf(request), query(request))));
      scope.post('/Users', async (request, reply) => created(request, reply, await createUser(ctx, sourceOf(request), request.body)));
      scope.get('/Users/:id', async (request, reply) => send(reply, 200, await getUser(ctx, sourceOf(request), id(request), projectionOf(query(request)))));
      scope.put('/Users/:id', async (request, reply) => send(reply, 200, await replaceUser(ctx, sourceOf(request), id(request), request.body)));
      scope.patch('/Users/:id', async (request, reply) => send(reply, 200, await patchUser(ctx, sourceOf(request), id(request), request.body)));
      scope.delete('/Users/:id', async (request, reply) => {
        await deleteUser(ctx, sourceOf(request), id(request));
        return reply.code(204).send();
      });

      scope.get('/Groups', async (request, reply) => send(reply, 200, await listGroups(ctx, sourceOf(request), query(request))));
      scope.post('/Groups', async (request, reply) => created(request, reply, await createGroup(ctx, sourceOf(request), request.body)));
      scope.get('/Groups/:id', async (request, reply) => send(reply, 200, await getGroup(ctx, sourceOf(request), id(request), projectionOf(query(request)))));
      scope.put('/Groups/:id', async (request, reply) => send(reply, 200, await replaceGroup(ctx, sourceOf(request), id(request), request.body)));
      scope.patch('/Groups/:id', async (request, reply) => {
        await patchGroup(ctx, sourceOf(request), id(request), request.body);
        const q = query(request);
        if (q.attributes === undefined && q.excludedAttributes === undefined) return reply.code(204).send();
        return send(reply, 200, await getGroup(ctx, sourceOf(request), id(request), projectionOf(q)));
      });
      scope.delete('/Groups/:id', async (request, reply) => {
        await deleteGroup(ctx, sourceOf(request), id(request));
        return reply.code(204).send();
      });
    },
    { prefix: '/scim/v2/:sourceId' },
  );
}
