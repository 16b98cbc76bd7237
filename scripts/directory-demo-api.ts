// The Tessera half of scripts/directory-demo.ts: through the REST API, as a privileged API user of the
// platform CO, the LDAP server, its assignment to the CO, the CO's LDAP target and the service's
// token target in service entries mode (README, "LDAP"), then a reprovision of the CO so tokens
// generated earlier reach the directory. Each step finds what an earlier run made before adding.

/** The directory as Tessera must know it. */
export interface DirectoryValues {
  /** ldap://127.0.0.1:<port>/ */
  url: string;
  /** cn=tessera,<suffix> and its password. */
  bindDn: string;
  bindPassword: string;
  /** ou=people,<suffix>: the LDAP target's base DN. */
  peopleDn: string;
  /** ou=services,<suffix>: the parent of the services' subtrees. */
  servicesDn: string;
  /** ou=<label>,ou=services,<suffix>: the token target's service entries. */
  serviceBaseDn: string;
  /** The CO service's short label. */
  serviceLabel: string;
}

interface Api {
  baseUrl: string;
  user: string;
  key: string;
}

interface Target {
  id: string;
  provisionerType: string;
  config: Record<string, unknown>;
}

/**
 * Configures the Tessera at `api.baseUrl` for the directory: finds the CO (by id or name) and its
 * service (by short label), then adds what is missing: the LDAP server "Demo directory <url>"
 * (its settings replaced when it exists), the assignment, the LDAP target (ordinal 10) and the
 * service-entries token target (ordinal 20); then reprovisions the CO. Returns a line per step.
 * Throws with the API's answer on any refusal (e.g. 401: wrong key; 403: not a privileged API user
 * of the platform CO).
 */
export async function configureTessera(api: Api, coNameOrId: string, v: DirectoryValues): Promise<string[]> {
  const call = caller(api);
  const done: string[] = [];
  const cos = (await call<{ items: Array<{ id: string; name: string }> }>('GET', '/api/v1/cos')).items;
  const co = cos.find((c) => c.id === coNameOrId) ?? cos.find((c) => c.name === coNameOrId);
  if (!co) throw new Error(`no CO named or numbered "${coNameOrId}" (COs: ${cos.map((c) => `${c.name} (${c.id})`).join(', ')})`);
  const services = (await call<{ items: Array<{ id: string; name: string; shortLabel: string }> }>('GET', `/api/v1/cos/${co.id}/services`)).items;
  const service = services.find((s) => s.shortLabel === v.serviceLabel);
  if (!service) throw new Error(`CO "${co.name}" has no service with short label "${v.serviceLabel}": create it (with tokens enabled), or pass --service`);

  const name = `Demo directory ${v.url.replace(/^ldap:\/\/|\/$/g, '')}`;
  const server = { name, url: v.url, bindDn: v.bindDn, bindPassword: v.bindPassword, subtrees: [v.peopleDn, v.servicesDn] };
  const existing = (await call<{ items: Array<{ id: string; name: string }> }>('GET', '/api/v1/ldap-servers')).items.find((s) => s.name === name);
  const serverId = existing ? (await call<{ id: string }>('PUT', `/api/v1/ldap-servers/${existing.id}`, server)).id : (await call<{ id: string }>('POST', '/api/v1/ldap-servers', server)).id;
  done.push(`LDAP server "${name}" ${existing ? 'updated' : 'created'} (${serverId})`);
  await call('PUT', `/api/v1/ldap-servers/${serverId}/cos/${co.id}`);
  done.push(`assigned to CO "${co.name}" (${co.id})`);

  const targets = (await call<{ items: Target[] }>('GET', `/api/v1/cos/${co.id}/provisioning-targets`)).items;
  let ldap = targets.find((t) => t.provisionerType === 'ldap' && t.config.serverId === serverId);
  if (ldap) done.push(`LDAP target exists (${ldap.id})`);
  else {
    ldap = await call<Target>('POST', `/api/v1/cos/${co.id}/provisioning-targets`, {
      provisionerType: 'ldap',
      description: 'Demo directory',
      ordinal: 10,
      retryIntervalSeconds: 30,
      config: { serverId, baseDn: v.peopleDn },
    });
    done.push(`LDAP target created (${ldap.id}): base DN ${v.peopleDn}, ordinal 10`);
  }
  const token = targets.find((t) => t.provisionerType === 'ldap-service-token' && t.config.ldapTargetId === ldap.id && t.config.serviceId === service.id);
  if (token) done.push(`token target of ${service.name} exists (${token.id})`);
  else {
    const created = await call<Target>('POST', `/api/v1/cos/${co.id}/provisioning-targets`, {
      provisionerType: 'ldap-service-token',
      description: `Tokens of ${service.name} (service entries)`,
      ordinal: 20,
      retryIntervalSeconds: 30,
      config: { ldapTargetId: ldap.id, serviceId: service.id, attribute: 'serviceEntries', serviceBaseDn: v.serviceBaseDn, createServiceSubtree: true },
    });
    done.push(`token target of ${service.name} created (${created.id}): service entries under ${v.serviceBaseDn}, ordinal 20`);
  }
  await call('POST', `/api/v1/cos/${co.id}/reprovision`, {});
  done.push(`CO "${co.name}" reprovisioned: tokens generated before now reach the directory too`);
  return done;
}

function caller(api: Api) {
  const authorization = `Basic ${Buffer.from(`${api.user}:${api.key}`).toString('base64')}`;
  const base = api.baseUrl.replace(/\/$/, '');
  return async <T = unknown>(method: string, path: string, body?: unknown): Promise<T> => {
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, { method, headers: { authorization, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }), signal: AbortSignal.timeout(30_000) });
    } catch (error) {
      throw new Error(`Tessera does not answer at ${base} (${(error as Error).message}): is it running? (--tessera URL)`);
    }
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return (text === '' ? undefined : JSON.parse(text)) as T;
  };
}
