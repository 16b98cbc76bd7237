import { ensurePlatformCo, type Co } from '../../src/core/cos/co.service.ts';
import { buildApiUser, buildCo, type TestApp } from './test-app.ts';

export interface ApiResponse {
  status: number;
  /** The parsed JSON body (undefined when empty). */
  body: any;
  headers: Record<string, string | string[] | number | undefined>;
}

export type ApiCall = (method: string, url: string, body?: unknown, opts?: { headers?: Record<string, string>; raw?: string; remoteAddress?: string }) => Promise<ApiResponse>;

/**
 * Calls the in-process API as one API user (or anonymously): JSON in, JSON out. `raw` sends a
 * body verbatim (malformed JSON, wrong content types).
 */
export function apiAs(t: TestApp, authorization?: string): ApiCall {
  return async (method, url, body, opts = {}) => {
    const headers: Record<string, string> = { ...(authorization ? { authorization } : {}) };
    if (body !== undefined || opts.raw !== undefined) headers['content-type'] = 'application/json';
    Object.assign(headers, opts.headers);
    const res = await t.app.inject({
      method: method as 'GET',
      url,
      headers,
      ...(opts.raw !== undefined ? { payload: opts.raw } : body !== undefined ? { payload: JSON.stringify(body) } : {}),
      ...(opts.remoteAddress ? { remoteAddress: opts.remoteAddress } : {}),
    });
    let parsed: unknown;
    if (res.body !== '') {
      try {
        parsed = JSON.parse(res.body);
      } catch {
        parsed = res.body;
      }
    }
    return { status: res.statusCode, body: parsed, headers: res.headers };
  };
}

const REGISTRY_TABLES = [
  'co',
  'co_person',
  'name',
  'identifier',
  'email_address',
  'co_identifier_type',
  'co_group',
  'co_group_member',
  'co_service',
  'history_record',
  'api_user',
] as const;

/**
 * Every row of the registry tables, ordered by id: compare a snapshot taken before a refused
 * request with one taken after to prove nothing changed.
 */
export async function snapshotRegistry(t: TestApp): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const table of REGISTRY_TABLES) {
    out[table] = await t.ctx.db.selectFrom(table).selectAll().orderBy('id').execute();
  }
  return out;
}

/**
 * Two ordinary COs and the platform CO, each with a privileged and an unprivileged API user: the
 * cast of every API authorization test.
 */
export interface ApiWorld {
  coA: Co;
  coB: Co;
  platformCo: Co;
  /** Privileged and unprivileged API users of CO A. */
  adminA: ApiCall;
  readerA: ApiCall;
  /** Privileged API user of CO B. */
  adminB: ApiCall;
  /** API users of the platform CO, which reach every CO. */
  platformAdmin: ApiCall;
  platformReader: ApiCall;
  anonymous: ApiCall;
}

export async function buildApiWorld(t: TestApp): Promise<ApiWorld> {
  const coA = await buildCo(t);
  const coB = await buildCo(t);
  const platformCo = await ensurePlatformCo(t.ctx);
  const as = async (coId: string, privileged: boolean) => apiAs(t, (await buildApiUser(t, coId, privileged)).authorization);
  return {
    coA,
    coB,
    platformCo,
    adminA: await as(coA.id, true),
    readerA: await as(coA.id, false),
    adminB: await as(coB.id, true),
    platformAdmin: await as(platformCo.id, true),
    platformReader: await as(platformCo.id, false),
    anonymous: apiAs(t),
  };
}

/**
 * Closes a test app. On PostgreSQL, pg-pool's `end()` resolves once its clients are detached, not
 * once their sockets are closed; the shared cluster is stopped right after the last suite, and a
 * socket still closing then receives "terminating connection due to administrator command" as an
 * uncaught error. A short pause lets the sockets finish. (The lasting fix belongs in the harness:
 * wait for the pool's `remove` events in `Database.destroy`.)
 */
export async function closeTestApp(t: TestApp): Promise<void> {
  await t.close();
  if (t.database.dialect === 'postgres') await new Promise((resolve) => setTimeout(resolve, 250));
}
