import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { apiRoute, coParams, idParam } from '../../core/http/api-route.ts';
import type { RouteContext } from '../../core/http/route-context.ts';
import {
  assignedLdapServers,
  assignLdapServer,
  createLdapServer,
  deleteLdapServer,
  getLdapServer,
  ldapServerInput,
  listLdapServers,
  setAdoptExistingEntries,
  unassignLdapServer,
  updateLdapServer,
  type LdapServerContext,
} from './ldap-server.service.ts';

const serverResponse = z.object({
  id: z.string(),
  name: z.string(),
  url: z.string(),
  startTls: z.boolean(),
  tlsCaCertificates: z.array(z.string()),
  tlsVerifyHostname: z.boolean(),
  bindDn: z.string(),
  /** Always "(set)": the bind password is write-only. */
  bindPassword: z.string(),
  subtrees: z.array(z.string()),
  coIds: z.array(z.string()),
  warnings: z.array(z.string()),
  createdAt: z.string(),
  updatedAt: z.string(),
});
const assignedResponse = z.object({ items: z.array(z.object({ id: z.string(), name: z.string(), subtrees: z.array(z.string()) })) });
const serverParams = z.object({ serverId: idParam });
const assignmentParams = serverParams.extend({ coId: idParam });
const adoptionParams = coParams.extend({ targetId: idParam });
const adoptionBody = z.object({ adoptExistingEntries: z.boolean() });

/**
 * LDAP servers under `/api/v1/ldap-servers`, for privileged API users of the platform CO only
 * (403 for anyone else): create, read (the bind password reads "(set)"), replace, delete, assign to
 * a CO and take away. A CO's admins list the servers assigned to their CO (names and subtrees)
 * under `/api/v1/cos/:coId/ldap-servers`. The adopt switch of an LDAP target is platform-only too.
 */
export function registerLdapServerApi(app: FastifyInstance, ctx: RouteContext, servers: LdapServerContext): void {
  const tag = 'LDAP servers';
  apiRoute(app, ctx, {
    method: 'GET',
    url: '/api/v1/ldap-servers',
    platform: true,
    operationId: 'listLdapServers',
    summary: 'List the LDAP servers (platform admins)',
    tag,
    response: z.object({ items: z.array(serverResponse) }),
    handler: async ({ actor }) => ({ items: await listLdapServers(servers, actor) }),
  });
  apiRoute(app, ctx, {
    method: 'POST',
    url: '/api/v1/ldap-servers',
    platform: true,
    operationId: 'createLdapServer',
    summary: 'Create an LDAP server: URL, TLS settings, bind DN and password (write-only), and the subtrees it may write (platform admins)',
    tag,
    body: ldapServerInput,
    response: serverResponse,
    status: 201,
    handler: async ({ actor, body }) => createLdapServer(servers, actor, body),
  });
  apiRoute(app, ctx, {
    method: 'GET',
    url: '/api/v1/ldap-servers/:serverId',
    platform: true,
    operationId: 'getLdapServer',
    summary: 'Read an LDAP server (the bind password reads "(set)")',
    tag,
    params: serverParams,
    response: serverResponse,
    handler: async ({ actor, params }) => getLdapServer(servers, actor, params.serverId),
  });
  apiRoute(app, ctx, {
    method: 'PUT',
    url: '/api/v1/ldap-servers/:serverId',
    platform: true,
    operationId: 'updateLdapServer',
    summary: 'Replace an LDAP server’s settings; an empty or "(set)" password keeps the stored one unless the URL or a TLS setting changes',
    tag,
    params: serverParams,
    body: ldapServerInput,
    response: serverResponse,
    handler: async ({ actor, params, body }) => updateLdapServer(servers, actor, params.serverId, body),
  });
  apiRoute(app, ctx, {
    method: 'DELETE',
    url: '/api/v1/ldap-servers/:serverId',
    platform: true,
    operationId: 'deleteLdapServer',
    summary: 'Delete an LDAP server no target uses',
    tag,
    params: serverParams,
    status: 204,
    errors: [409],
    handler: async ({ actor, params }) => deleteLdapServer(servers, actor, params.serverId),
  });
  apiRoute(app, ctx, {
    method: 'PUT',
    url: '/api/v1/ldap-servers/:serverId/cos/:coId',
    platform: true,
    operationId: 'assignLdapServer',
    summary: 'Let a CO’s LDAP targets use the server',
    tag,
    params: assignmentParams,
    status: 204,
    handler: async ({ actor, params }) => assignLdapServer(servers, actor, params.serverId, params.coId),
  });
  apiRoute(app, ctx, {
    method: 'DELETE',
    url: '/api/v1/ldap-servers/:serverId/cos/:coId',
    platform: true,
    operationId: 'unassignLdapServer',
    summary: 'Take the server away from a CO (refused while a target of the CO uses it)',
    tag,
    params: assignmentParams,
    status: 204,
    errors: [409],
    handler: async ({ actor, params }) => unassignLdapServer(servers, actor, params.serverId, params.coId),
  });
  apiRoute(app, ctx, {
    method: 'GET',
    url: '/api/v1/cos/:coId/ldap-servers',
    operationId: 'listAssignedLdapServers',
    summary: 'The LDAP servers the CO’s LDAP targets may use: names and subtrees (never the URL or credential)',
    tag,
    params: coParams,
    response: assignedResponse,
    co: 'admin',
    handler: async ({ actor, co }) => ({ items: await assignedLdapServers(servers, actor, co.id) }),
  });
  apiRoute(app, ctx, {
    method: 'PUT',
    url: '/api/v1/cos/:coId/provisioning-targets/:targetId/adopt-existing-entries',
    platform: true,
    operationId: 'setLdapAdoptExistingEntries',
    summary: 'Switch "adopt existing entries" of an LDAP target on or off (platform admins; for migrations). Each adoption is recorded in history.',
    tag,
    params: adoptionParams,
    body: adoptionBody,
    response: adoptionBody.extend({ targetId: z.string() }),
    co: 'admin',
    handler: async ({ actor, params, body, co }) => setAdoptExistingEntries(servers, actor, co.id, params.targetId, body.adoptExistingEntries),
  });
}
