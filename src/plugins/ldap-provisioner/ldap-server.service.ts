// LDAP servers are platform objects: platform admins create them, with the credential Tessera binds
// with and the subtrees it may write, and assign them to COs. A CO admin's LDAP target names an
// assigned server and a base DN inside one of its subtrees; it never sees or re-points the
// credential, and cannot make Tessera connect anywhere else.
import { z } from 'zod';
import { isCoAdmin, isPlatformAdmin, type Actor } from '../../core/auth/actor.ts';
import { getCo } from '../../core/cos/co.service.ts';
import { findPlatformCo } from '../../core/cos/co.repository.ts';
import { AppError, assertThat } from '../../core/errors/app-error.ts';
import { CORE_ERRORS } from '../../core/errors/error-codes.ts';
import { recordHistory } from '../../core/history/history.service.ts';
import { issuesOf, text } from '../../core/http/validation.ts';
import type { ProvisioningContext } from '../../core/provisioning/target.service.ts';
import { SECRET_MASK } from '../../core/provisioning/target.service.ts';
import { SecretBox } from '../../core/provisioning/secret-box.ts';
import { isUniqueViolation } from '../../db/constraint-errors.ts';
import type { Executor } from '../../db/database.ts';
import { newId } from '../../db/ids.ts';
import { ldapServerConnectionSchema, ldapTargetSettingsSchema } from './ldap-config.schema.ts';
import { connectionWarnings, type LdapConnectionSettings } from './ldap-connection.ts';
import { DnSyntaxError, isWithinSubtree, parseDn } from './ldap-dn.ts';
import { LDAP_PROVISIONER_ERRORS } from './error-codes.ts';
import { LDAP_PROVISIONER_TYPE } from './ldap-extension.ts';
import {
  coIdsOfServer,
  deleteAssignment,
  deleteStoredServer,
  findAdoption,
  findAssignedServer,
  findStoredServer,
  insertAssignment,
  insertStoredServer,
  ldapTargetRows,
  listStoredServers,
  serversOfCo,
  setAdoptionRow,
  updateStoredServer,
  type LdapDb,
  type StoredLdapServer,
} from './ldap-server.repository.ts';

/** What the LDAP server services need: the core's context and the database typed with the plugin's tables. */
export interface LdapServerContext {
  core: ProvisioningContext;
  /** The plugin's view of an executor (the host's `withTables`). */
  tables(db: Executor): LdapDb;
}

function validDn(value: string): boolean {
  try {
    return parseDn(value).length > 0;
  } catch (e) {
    if (e instanceof DnSyntaxError) return false;
    throw e;
  }
}

/**
 * A server as a platform admin gives it (web form and API). `bindPassword` may be left empty (or
 * sent back as "(set)") on an update to keep the stored one, unless the URL or a TLS setting
 * changes: a kept password only goes where it was given for.
 */
export const ldapServerInput = ldapServerConnectionSchema
  .extend({
    name: text({ min: 1, max: 128 }),
    bindPassword: z.string().max(1024, 'At most 1024 characters').default(''),
    subtrees: z.preprocess(
      (v) => (typeof v === 'string' ? v.split(/\r?\n/).map((l) => l.trim()).filter(Boolean) : v),
      z
        .array(z.string().trim().max(1024).refine(validDn, 'Not a valid DN (e.g. ou=people,dc=example,dc=org)'))
        .min(1, 'At least one subtree')
        .max(50),
    ),
  })
  .superRefine((c, ctx) => {
    if (c.startTls && /^ldaps:/i.test(c.url)) ctx.addIssue({ code: 'custom', path: ['startTls'], message: 'StartTLS is for ldap:// URLs; ldaps:// is TLS already' });
  });
export type LdapServerInput = z.output<typeof ldapServerInput>;

/** A server as platform admins see it: the bind password masked. */
export interface LdapServerView {
  id: string;
  name: string;
  url: string;
  startTls: boolean;
  tlsCaCertificates: string[];
  tlsVerifyHostname: boolean;
  bindDn: string;
  bindPassword: string;
  subtrees: string[];
  coIds: string[];
  warnings: string[];
  createdAt: string;
  updatedAt: string;
}

/** A server as a CO admin sees it: a name to choose and where its targets may write. */
export interface AssignedLdapServer {
  id: string;
  name: string;
  subtrees: string[];
}

function settingsOf(server: StoredLdapServer, bindPassword: string): LdapConnectionSettings {
  return { url: server.url, startTls: server.startTls, tlsCaCertificates: server.tlsCaCertificates, tlsVerifyHostname: server.tlsVerifyHostname, bindDn: server.bindDn, bindPassword };
}

async function viewOf(ctx: LdapServerContext, db: LdapDb, server: StoredLdapServer): Promise<LdapServerView> {
  const { sealedBindPassword: _sealed, ...rest } = server;
  return { ...rest, bindPassword: SECRET_MASK, coIds: await coIdsOfServer(db, server.id), warnings: connectionWarnings(settingsOf(server, '')) };
}

function requirePlatformAdmin(actor: Actor): void {
  assertThat(isPlatformAdmin(actor), CORE_ERRORS.FORBIDDEN, { message: 'Only platform admins manage LDAP servers' });
}

/** History of platform objects goes to the platform CO. */
async function recordPlatformHistory(ctx: LdapServerContext, db: Executor, actor: Actor, action: string, comment: string): Promise<void> {
  const platform = await findPlatformCo(db);
  if (platform) await recordHistory(db, ctx.core.clock, actor, { coId: platform.id, action, comment });
}

export async function listLdapServers(ctx: LdapServerContext, actor: Actor): Promise<LdapServerView[]> {
  requirePlatformAdmin(actor);
  const db = ctx.tables(ctx.core.db);
  return Promise.all((await listStoredServers(db)).map((s) => viewOf(ctx, db, s)));
}

export async function getLdapServer(ctx: LdapServerContext, actor: Actor, serverId: string): Promise<LdapServerView> {
  requirePlatformAdmin(actor);
  const db = ctx.tables(ctx.core.db);
  const server = await findStoredServer(db, serverId);
  if (!server) throw new AppError(LDAP_PROVISIONER_ERRORS.LDAP_SERVER_NOT_FOUND);
  return viewOf(ctx, db, server);
}

function parseServer(input: unknown): LdapServerInput {
  const parsed = ldapServerInput.safeParse(input);
  if (!parsed.success) {
    const issues = issuesOf(parsed.error);
    throw new AppError(CORE_ERRORS.VALIDATION_FAILED, { message: `${issues[0]?.field}: ${issues[0]?.message}`, field: issues[0]?.field, issues });
  }
  return parsed.data;
}

async function saveServer(ctx: LdapServerContext, actor: Actor, serverId: string | undefined, raw: unknown): Promise<LdapServerView> {
  requirePlatformAdmin(actor);
  const input = parseServer(raw);
  return ctx.core.db.transaction().execute(async (trx) => {
    const db = ctx.tables(trx);
    const existing = serverId ? await findStoredServer(db, serverId) : undefined;
    if (serverId && !existing) throw new AppError(LDAP_PROVISIONER_ERRORS.LDAP_SERVER_NOT_FOUND);
    const given = input.bindPassword !== '' && input.bindPassword !== SECRET_MASK;
    if (!given && !existing) throw new AppError(CORE_ERRORS.VALIDATION_FAILED, { field: 'bindPassword', message: 'bindPassword: Required' });
    if (!given && existing) {
      const moved = (['url', 'startTls', 'tlsCaCertificates', 'tlsVerifyHostname'] as const).find((f) => JSON.stringify(existing[f]) !== JSON.stringify(input[f]));
      if (moved) throw new AppError(CORE_ERRORS.VALIDATION_FAILED, { field: 'bindPassword', message: `bindPassword: Enter it again: ${moved} changed, and a stored secret is only sent where it was given for` });
    }
    const now = ctx.core.clock.now().toISOString();
    const server: StoredLdapServer = {
      id: existing?.id ?? newId(),
      name: input.name,
      url: input.url,
      startTls: input.startTls,
      tlsCaCertificates: input.tlsCaCertificates,
      tlsVerifyHostname: input.tlsVerifyHostname,
      bindDn: input.bindDn,
      sealedBindPassword: given ? ctx.core.secretBox.seal(input.bindPassword) : existing!.sealedBindPassword,
      subtrees: input.subtrees,
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    };
    try {
      if (existing) await updateStoredServer(db, server);
      else await insertStoredServer(db, server);
    } catch (error) {
      if (isUniqueViolation(error)) throw new AppError(LDAP_PROVISIONER_ERRORS.LDAP_SERVER_NAME_TAKEN, { field: 'name' });
      throw error;
    }
    if (existing) await checkTargetsStillFit(db, server);
    await recordPlatformHistory(ctx, trx, actor, existing ? 'LDAP_SERVER_UPDATED' : 'LDAP_SERVER_CREATED', `LDAP server "${server.name}" (${server.url}) ${existing ? 'updated' : 'created'}`);
    return viewOf(ctx, db, server);
  });
}

/** A server's subtrees may shrink only while every target using it keeps its base DN inside them. */
async function checkTargetsStillFit(db: LdapDb, server: StoredLdapServer): Promise<void> {
  for (const row of await ldapTargetRows(db)) {
    const config = JSON.parse(row.config) as { serverId?: unknown; baseDn?: unknown };
    if (config.serverId !== server.id || typeof config.baseDn !== 'string') continue;
    if (!server.subtrees.some((s) => isWithinSubtree(String(config.baseDn), s))) {
      throw new AppError(LDAP_PROVISIONER_ERRORS.BASE_DN_OUTSIDE_SUBTREES, { field: 'subtrees', message: `LDAP target "${row.description}" writes under ${String(config.baseDn)}, outside the subtrees given; keep a subtree that holds it` });
    }
  }
}

/** Creates a server (platform admins only); the bind password is sealed, never shown again. */
export function createLdapServer(ctx: LdapServerContext, actor: Actor, input: unknown): Promise<LdapServerView> {
  return saveServer(ctx, actor, undefined, input);
}

/** Replaces a server's settings (platform admins only); see `ldapServerInput` for the password. */
export function updateLdapServer(ctx: LdapServerContext, actor: Actor, serverId: string, input: unknown): Promise<LdapServerView> {
  return saveServer(ctx, actor, serverId, input);
}

/** Targets of `coId` (or of any CO) that use the server. */
async function targetsUsing(db: LdapDb, serverId: string, coId?: string): Promise<Array<{ id: string; co_id: string; description: string }>> {
  return (await ldapTargetRows(db, coId)).filter((r) => (JSON.parse(r.config) as { serverId?: unknown }).serverId === serverId);
}

/** Deletes a server no target uses (409 LDAP_SERVER_IN_USE otherwise). */
export async function deleteLdapServer(ctx: LdapServerContext, actor: Actor, serverId: string): Promise<void> {
  requirePlatformAdmin(actor);
  await ctx.core.db.transaction().execute(async (trx) => {
    const db = ctx.tables(trx);
    const server = await findStoredServer(db, serverId);
    if (!server) throw new AppError(LDAP_PROVISIONER_ERRORS.LDAP_SERVER_NOT_FOUND);
    const users = await targetsUsing(db, serverId);
    if (users.length > 0) throw new AppError(LDAP_PROVISIONER_ERRORS.LDAP_SERVER_IN_USE, { message: `LDAP targets use this server (${users.map((u) => `"${u.description}"`).join(', ')}); change or delete them first` });
    await deleteStoredServer(db, serverId);
    await recordPlatformHistory(ctx, trx, actor, 'LDAP_SERVER_DELETED', `LDAP server "${server.name}" deleted`);
  });
}

/** Lets the CO's targets use the server (platform admins only); recorded in the CO's history. */
export async function assignLdapServer(ctx: LdapServerContext, actor: Actor, serverId: string, coId: string): Promise<void> {
  requirePlatformAdmin(actor);
  await ctx.core.db.transaction().execute(async (trx) => {
    const db = ctx.tables(trx);
    const server = await findStoredServer(db, serverId);
    if (!server) throw new AppError(LDAP_PROVISIONER_ERRORS.LDAP_SERVER_NOT_FOUND);
    await getCo(trx, coId);
    if (await insertAssignment(db, serverId, coId, ctx.core.clock.now().toISOString())) {
      await recordHistory(trx, ctx.core.clock, actor, { coId, action: 'LDAP_SERVER_ASSIGNED', comment: `LDAP server "${server.name}" assigned to the CO (subtrees: ${server.subtrees.join('; ')})` });
    }
  });
}

/** Takes the server away from the CO; refused (409) while a target of the CO uses it. */
export async function unassignLdapServer(ctx: LdapServerContext, actor: Actor, serverId: string, coId: string): Promise<void> {
  requirePlatformAdmin(actor);
  await ctx.core.db.transaction().execute(async (trx) => {
    const db = ctx.tables(trx);
    const server = await findStoredServer(db, serverId);
    if (!server) throw new AppError(LDAP_PROVISIONER_ERRORS.LDAP_SERVER_NOT_FOUND);
    const users = await targetsUsing(db, serverId, coId);
    if (users.length > 0) throw new AppError(LDAP_PROVISIONER_ERRORS.LDAP_SERVER_IN_USE, { message: `LDAP targets of the CO use this server (${users.map((u) => `"${u.description}"`).join(', ')}); change or delete them first` });
    if (await deleteAssignment(db, serverId, coId)) {
      await recordHistory(trx, ctx.core.clock, actor, { coId, action: 'LDAP_SERVER_UNASSIGNED', comment: `LDAP server "${server.name}" no longer assigned to the CO` });
    }
  });
}

/** The servers a CO admin may choose for the CO's LDAP targets: names and subtrees, nothing else. */
export async function assignedLdapServers(ctx: LdapServerContext, actor: Actor, coId: string): Promise<AssignedLdapServer[]> {
  assertThat(isCoAdmin(actor, coId), CORE_ERRORS.FORBIDDEN);
  return (await serversOfCo(ctx.tables(ctx.core.db), coId)).map((s) => ({ id: s.id, name: s.name, subtrees: s.subtrees }));
}

/**
 * Switches "adopt existing entries" on or off for an LDAP target (platform admins only, for
 * migrations): with it on, an add that meets an entry Tessera did not create takes that entry
 * over, and each adoption is recorded in history. Recorded in the CO's history too.
 */
export async function setAdoptExistingEntries(ctx: LdapServerContext, actor: Actor, coId: string, targetId: string, on: boolean): Promise<{ targetId: string; adoptExistingEntries: boolean }> {
  assertThat(isPlatformAdmin(actor), CORE_ERRORS.FORBIDDEN, { message: 'Only platform admins may let a target adopt existing entries' });
  return ctx.core.db.transaction().execute(async (trx) => {
    const db = ctx.tables(trx);
    const target = await db.selectFrom('provisioning_target').select(['id', 'description', 'provisioner_type']).where('co_id', '=', coId).where('id', '=', targetId).executeTakeFirst();
    if (!target || target.provisioner_type !== LDAP_PROVISIONER_TYPE) throw new AppError(LDAP_PROVISIONER_ERRORS.NOT_AN_LDAP_TARGET);
    const before = (await findAdoption(db, targetId)) !== undefined;
    if (before !== on) {
      await setAdoptionRow(db, targetId, on, actor.label, ctx.core.clock.now().toISOString());
      await recordHistory(trx, ctx.core.clock, actor, {
        coId,
        action: on ? 'LDAP_ADOPTION_ENABLED' : 'LDAP_ADOPTION_DISABLED',
        comment: `LDAP target "${target.description}": adopt existing entries switched ${on ? 'on' : 'off'}`,
      });
    }
    return { targetId, adoptExistingEntries: on };
  });
}

/** Whether the target may adopt existing entries (anyone who may see the target may know). */
export async function adoptionOf(ctx: LdapServerContext, db: Executor, targetId: string): Promise<{ setBy: string; setAt: string } | undefined> {
  return findAdoption(ctx.tables(db), targetId);
}

/**
 * What an LDAP target draws from its server, for its provisioner only (never shown): the server's
 * connection settings with the bind password opened, its subtrees, and the adopt switch. Empty
 * when the server is gone or no longer assigned to the target's CO: the target then fails to run,
 * saying so, and nothing is sent anywhere.
 */
export async function serverSettingsForTarget(ctx: LdapServerContext, db: Executor, target: { id: string; coId: string; config: Record<string, unknown> }): Promise<Record<string, unknown>> {
  const tables = ctx.tables(db);
  const serverId = typeof target.config.serverId === 'string' ? target.config.serverId : undefined;
  const server = serverId ? await findAssignedServer(tables, target.coId, serverId) : undefined;
  const adopt = (await findAdoption(tables, target.id)) !== undefined;
  if (!server) return { adoptExistingEntries: adopt };
  const password = SecretBox.isSealed(server.sealedBindPassword) ? ctx.core.secretBox.open(server.sealedBindPassword) : server.sealedBindPassword;
  return { ...settingsOf(server, password), subtrees: server.subtrees, adoptExistingEntries: adopt };
}

/**
 * Checks a CO admin's LDAP target settings: the server must be assigned to the CO (else 422
 * LDAP_SERVER_NOT_ASSIGNED on `config.serverId`) and the base DN must lie inside one of its
 * subtrees, compared RDN by RDN after normalization (else 422 BASE_DN_OUTSIDE_SUBTREES on
 * `config.baseDn`).
 */
export async function checkTargetPlacement(ctx: LdapServerContext, db: Executor, coId: string, config: Record<string, unknown>): Promise<void> {
  const settings = ldapTargetSettingsSchema.pick({ serverId: true, baseDn: true }).parse(config);
  const server = await findAssignedServer(ctx.tables(db), coId, settings.serverId);
  if (!server) throw new AppError(LDAP_PROVISIONER_ERRORS.LDAP_SERVER_NOT_ASSIGNED, { field: 'config.serverId', message: 'Choose one of the LDAP servers assigned to this CO' });
  if (!server.subtrees.some((s) => isWithinSubtree(settings.baseDn, s))) {
    throw new AppError(LDAP_PROVISIONER_ERRORS.BASE_DN_OUTSIDE_SUBTREES, {
      field: 'config.baseDn',
      message: `The base DN must lie inside one of the subtrees of LDAP server "${server.name}": ${server.subtrees.join('; ')}`,
    });
  }
}
