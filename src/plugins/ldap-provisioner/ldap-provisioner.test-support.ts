// Test factories for the LDAP provisioners: provisioning data without a database, settings, a
// session like the worker's, and operation counts read from slapd's own monitor.
import { Client } from 'ldapts';
import type { Person } from '../../core/people/person.repository.ts';
import type { PreviousState, ProvisionInput, ProvisionerSession, ProvisionResult, Target } from '../../core/provisioning/provisioner.ts';
import type { ProvisioningData } from '../../core/provisioning/provisioning-data.ts';
import { newId } from '../../db/ids.ts';
import { ldapConfigSchema, type LdapConfig } from './ldap-config.schema.ts';

export function personData(overrides: Partial<Person> = {}, groups: string[] = ['CO:members:active']): ProvisioningData {
  const coId = newId();
  const person: Person = {
    id: newId(),
    coId,
    status: 'active',
    displayName: 'Pat Example',
    names: [{ id: newId(), given: 'Pat', middle: null, family: 'Example', suffix: null, type: 'official', primary: true }],
    identifiers: [{ id: newId(), identifier: `pat-${newId().slice(0, 6)}`, type: 'uid', login: true, status: 'active' }],
    emails: [{ id: newId(), mail: 'pat@example.org', type: 'official', verified: true }],
    createdAt: '2026-11-28T09:00:00.000Z',
    updatedAt: '2026-11-28T09:00:00.000Z',
    ...overrides,
  };
  return {
    co: { id: coId, name: 'Lab', description: '', status: 'active', isPlatform: false, createdAt: person.createdAt },
    person,
    groups: groups.map((name) => ({ id: newId(), coId, name, description: '', status: 'active', type: 'standard', createdAt: person.createdAt })),
    plugins: {},
  };
}

/**
 * An LDAP target's settings as its provisioner runs them (its own and its server's), for tests of
 * the LDAP writes alone. The server's subtrees default to the base DN; adoption is off.
 */
export function ldapSettings(overrides: Record<string, unknown> = {}): LdapConfig {
  const merged: Record<string, unknown> = {
    serverId: 'test-server',
    url: 'ldap://127.0.0.1:389',
    bindDn: 'cn=admin,dc=example,dc=org',
    bindPassword: 'secret',
    baseDn: 'ou=people,dc=example,dc=org',
    eduPerson: true,
    eduMember: true,
    voPerson: true,
    ...overrides,
  };
  return ldapConfigSchema.parse({ subtrees: [merged.baseDn], ...merged });
}

export function targetOf<C>(plugin: string, config: C, overrides: Partial<Target> = {}): Target<C> {
  return {
    id: newId(),
    coId: newId(),
    provisionerType: plugin,
    description: `${plugin} target`,
    mode: 'automatic',
    ordinal: 10,
    retryIntervalSeconds: 60,
    maxRetries: 10,
    provisionGroupId: null,
    ...overrides,
    config,
  };
}

/** A session like the worker's: one value per key, closed at the end of the "pass". */
export class TestSession implements ProvisionerSession {
  private readonly open = new Map<string, { value: Promise<unknown>; close: (v: unknown) => Promise<void> }>();
  get<T>(key: string, open: () => Promise<T>, close: (value: T) => Promise<void>): Promise<T> {
    let entry = this.open.get(key);
    if (!entry) {
      entry = { value: open(), close: close as (v: unknown) => Promise<void> };
      this.open.set(key, entry);
    }
    return entry.value as Promise<T>;
  }
  async closeAll(): Promise<void> {
    for (const { value, close } of this.open.values()) await close(await value);
    this.open.clear();
  }
}

/**
 * Runs a provisioner for one person the way the worker does, keeping each target's state between
 * runs, and closing the session after every run (as a worker pass does).
 */
export class StateKeeper {
  readonly states = new Map<string, PreviousState>();
  async run<C>(
    provision: (input: ProvisionInput<C>) => Promise<ProvisionResult>,
    target: Target<C>,
    targets: Target[],
    intent: 'present' | 'absent',
    data: ProvisioningData | undefined,
    session = new TestSession(),
  ): Promise<ProvisionResult> {
    try {
      const result = await provision({
        target,
        targets,
        intent,
        data,
        personId: data?.person.id ?? 'gone',
        previous: this.states.get(target.id),
        stateOf: async (id) => this.states.get(id),
        session,
      });
      this.states.set(target.id, { status: result.status, targetKey: result.targetKey, detail: result.detail ?? {} });
      return result;
    } catch (error) {
      const before = this.states.get(target.id);
      this.states.set(target.id, { status: 'failed', targetKey: before?.targetKey ?? null, detail: before?.detail ?? {} });
      throw error;
    } finally {
      await session.closeAll();
    }
  }
}

export type OperationCounts = Record<'bind' | 'search' | 'add' | 'modify' | 'modrdn' | 'delete', number>;

/**
 * Operations slapd started, from its monitor backend (start slapd with monitorConfig()). Started,
 * not completed: slapd counts an operation as completed only after it has sent the result, so a
 * client can see the result before the count moves. The bind and search that read the counts are
 * counted too; `operationsDuring` subtracts them.
 */
export async function operationCounts(url: string, rootDn: string, rootPassword: string): Promise<OperationCounts> {
  const client = new Client({ url, connectTimeout: 2_000, timeout: 5_000 });
  try {
    await client.bind(rootDn, rootPassword);
    const { searchEntries } = await client.search('cn=Operations,cn=Monitor', { scope: 'one', attributes: ['cn', 'monitorOpInitiated'] });
    const out: Record<string, number> = {};
    for (const e of searchEntries) out[String(e.cn).toLowerCase()] = Number(e.monitorOpInitiated);
    return { bind: out.bind ?? 0, search: out.search ?? 0, add: out.add ?? 0, modify: out.modify ?? 0, modrdn: out.modrdn ?? 0, delete: out.delete ?? 0 };
  } finally {
    await client.unbind().catch(() => undefined);
  }
}

/** The operations `work` made slapd do, not counting the bind and search that measure them. */
export async function operationsDuring(slapd: { url: string; rootDn: string; rootPassword: string }, work: () => Promise<unknown>): Promise<OperationCounts> {
  const before = await operationCounts(slapd.url, slapd.rootDn, slapd.rootPassword);
  await work();
  const after = await operationCounts(slapd.url, slapd.rootDn, slapd.rootPassword);
  return {
    bind: after.bind - before.bind - 1,
    search: after.search - before.search - 1,
    add: after.add - before.add,
    modify: after.modify - before.modify,
    modrdn: after.modrdn - before.modrdn,
    delete: after.delete - before.delete,
  };
}

/** slapd.conf lines that expose operation counts under cn=Monitor to the rootdn. */
export function monitorConfig(rootDn: string): string {
  return ['database monitor', `access to dn.subtree="cn=Monitor" by dn.exact="${rootDn}" read by * none`].join('\n');
}
