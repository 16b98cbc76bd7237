import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Actor } from '../../core/auth/actor.ts';
import { listCos } from '../../core/cos/co.service.ts';
import type { RouteContext } from '../../core/http/route-context.ts';
import { emptyForm, type FormState } from '../../core/web/components.views.tsx';
import { postedString, postedValues, submitForm } from '../../core/web/forms.ts';
import { requirePlatformAdmin } from '../../core/web/guards.ts';
import { redirectWith, sendPage } from '../../core/web/render.ts';
import { ldapTargetRows } from './ldap-server.repository.ts';
import {
  adoptionOf,
  assignLdapServer,
  createLdapServer,
  deleteLdapServer,
  getLdapServer,
  listLdapServers,
  setAdoptExistingEntries,
  unassignLdapServer,
  updateLdapServer,
  type LdapServerContext,
  type LdapServerView,
} from './ldap-server.service.ts';
import { LdapServerNewPage, LdapServerPage, LdapServersPage, SERVERS_HREF, type ServerTargetRow } from './ldap-server.views.tsx';

type ServerRoute = { Params: { serverId: string } };

/** The form's values of a server (the password never filled in). */
function formOf(server: LdapServerView): Record<string, unknown> {
  return {
    name: server.name,
    url: server.url,
    startTls: server.startTls ? 'on' : '',
    tlsCaCertificates: server.tlsCaCertificates.join('\n'),
    tlsVerifyHostname: server.tlsVerifyHostname ? 'on' : '',
    bindDn: server.bindDn,
    bindPassword: '',
    subtrees: server.subtrees.join('\n'),
  };
}

/** Checkboxes post nothing when unticked: that is false, not the default. */
function asInput(values: Record<string, unknown>): unknown {
  return { ...values, startTls: values.startTls === 'on', tlsVerifyHostname: values.tlsVerifyHostname === 'on' };
}

/**
 * The platform's LDAP server pages under /platform/ldap-servers, for platform admins only (403
 * otherwise): list, create, edit, delete, assign to COs, and the adopt switch of the LDAP targets
 * that use a server.
 */
export function registerLdapServerRoutes(app: FastifyInstance, ctx: RouteContext, servers: LdapServerContext): void {
  async function coOptions(actor: Actor) {
    return (await listCos(ctx.db, actor)).filter((c) => !c.isPlatform).map((c) => ({ value: c.id, label: c.name }));
  }

  async function showServer(request: FastifyRequest, reply: FastifyReply, actor: Actor, serverId: string, form?: FormState, status = 200) {
    const server = await getLdapServer(servers, actor, serverId);
    const cos = await coOptions(actor);
    const names = new Map(cos.map((c) => [c.value, c.label]));
    const targets: ServerTargetRow[] = [];
    for (const row of await ldapTargetRows(servers.tables(ctx.db))) {
      if ((JSON.parse(row.config) as { serverId?: unknown }).serverId !== server.id) continue;
      targets.push({ coId: row.co_id, coName: names.get(row.co_id) ?? row.co_id, targetId: row.id, description: row.description, adopting: await adoptionOf(servers, ctx.db, row.id) });
    }
    const shown = form ? { ...form, values: { ...form.values, bindPassword: '' } } : emptyForm(formOf(server));
    return sendPage(ctx, request, reply, (page) => <LdapServerPage page={page} server={server} form={shown} cos={cos} targets={targets} />, status);
  }

  app.get(SERVERS_HREF, async (request, reply) => {
    const actor = requirePlatformAdmin(request);
    const list = await listLdapServers(servers, actor);
    const coNames = new Map((await coOptions(actor)).map((c) => [c.value, c.label]));
    return sendPage(ctx, request, reply, (page) => <LdapServersPage page={page} servers={list} coNames={coNames} />);
  });

  app.get(`${SERVERS_HREF}/new`, async (request, reply) => {
    requirePlatformAdmin(request);
    return sendPage(ctx, request, reply, (page) => <LdapServerNewPage page={page} form={emptyForm({ tlsVerifyHostname: 'on' })} />);
  });

  app.post(SERVERS_HREF, async (request, reply) => {
    const actor = requirePlatformAdmin(request);
    const outcome = await submitForm(z.unknown(), postedValues(request), (input) => createLdapServer(servers, actor, input), { toInput: asInput });
    if (!outcome.ok) return sendPage(ctx, request, reply, (page) => <LdapServerNewPage page={page} form={{ ...outcome.form, values: { ...outcome.form.values, bindPassword: '' } }} />, outcome.status);
    return redirectWith(reply, `${SERVERS_HREF}/${outcome.value.id}`, { kind: 'success', message: `LDAP server ${outcome.value.name} created.` });
  });

  app.get<ServerRoute>(`${SERVERS_HREF}/:serverId`, async (request, reply) => showServer(request, reply, requirePlatformAdmin(request), request.params.serverId));

  app.post<ServerRoute>(`${SERVERS_HREF}/:serverId`, async (request, reply) => {
    const actor = requirePlatformAdmin(request);
    const outcome = await submitForm(z.unknown(), postedValues(request), (input) => updateLdapServer(servers, actor, request.params.serverId, input), { toInput: asInput });
    if (!outcome.ok) return showServer(request, reply, actor, request.params.serverId, outcome.form, outcome.status);
    return redirectWith(reply, `${SERVERS_HREF}/${outcome.value.id}`, { kind: 'success', message: `LDAP server ${outcome.value.name} saved.` });
  });

  app.post<ServerRoute>(`${SERVERS_HREF}/:serverId/delete`, async (request, reply) => {
    const actor = requirePlatformAdmin(request);
    await deleteLdapServer(servers, actor, request.params.serverId);
    return redirectWith(reply, SERVERS_HREF, { kind: 'success', message: 'LDAP server deleted.' });
  });

  app.post<ServerRoute>(`${SERVERS_HREF}/:serverId/cos`, async (request, reply) => {
    const actor = requirePlatformAdmin(request);
    await assignLdapServer(servers, actor, request.params.serverId, postedString(postedValues(request), 'coId'));
    return redirectWith(reply, `${SERVERS_HREF}/${request.params.serverId}`, { kind: 'success', message: 'LDAP server assigned.' });
  });

  app.post<{ Params: { serverId: string; coId: string } }>(`${SERVERS_HREF}/:serverId/cos/:coId/unassign`, async (request, reply) => {
    const actor = requirePlatformAdmin(request);
    await unassignLdapServer(servers, actor, request.params.serverId, request.params.coId);
    return redirectWith(reply, `${SERVERS_HREF}/${request.params.serverId}`, { kind: 'success', message: 'LDAP server taken away from the CO.' });
  });

  app.post<{ Params: { coId: string; targetId: string } }>('/platform/ldap-targets/:coId/:targetId/adopt', async (request, reply) => {
    const actor = requirePlatformAdmin(request);
    const values = postedValues(request);
    const on = postedString(values, 'adoptExistingEntries') === 'true';
    await setAdoptExistingEntries(servers, actor, request.params.coId, request.params.targetId, on);
    const back = postedString(values, 'back');
    const target = back.startsWith(`${SERVERS_HREF}/`) ? back : SERVERS_HREF;
    return redirectWith(reply, target, { kind: 'success', message: `Adopt existing entries switched ${on ? 'on' : 'off'}.` });
  });
}
