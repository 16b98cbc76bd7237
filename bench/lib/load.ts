// The load generator: `lanes` concurrent loops in this one process, each issuing one operation,
// awaiting it, and issuing the next, until the round's time is up or its work list is used up.
import { Agent, request } from 'node:http';
import { Client, InvalidCredentialsError } from 'ldapts';
import { Latencies } from './stats.ts';

export interface Pair {
  /** The uid, as the verification API is asked. */
  user: string;
  /** The LDAP entry of the same user. */
  dn: string;
  token: string;
}

export interface RoundResult {
  ops: number;
  errors: number;
  firstError: string | null;
  elapsedMs: number;
  perSecond: number;
  latency: Latencies;
}

/** Where a lane takes its next pair: random draws (steady) or a list used once (cold). */
export type PairSource = () => Pair | undefined;

export function randomSource(pairs: readonly Pair[]): PairSource {
  return () => pairs[Math.floor(Math.random() * pairs.length)];
}

export function listSource(pairs: readonly Pair[]): PairSource & { used: () => number } {
  let i = 0;
  const next = (() => (i < pairs.length ? pairs[i++] : undefined)) as PairSource & { used: () => number };
  next.used = () => i;
  return next;
}

/** A side of the comparison: one lane's way of checking one pair. `ok` false counts as an error. */
export interface Side {
  name: string;
  /** Opens a lane (a connection); called before the clock starts. */
  openLane(): Promise<Lane>;
}

export interface Lane {
  check(pair: Pair): Promise<{ ok: boolean; detail?: string }>;
  close(): Promise<void>;
}

export async function runRound(side: Side, opts: { lanes: number; durationMs: number; source: PairSource; primeWith?: Pair }): Promise<RoundResult> {
  const lanes = await Promise.all(Array.from({ length: opts.lanes }, () => side.openLane()));
  // One unmeasured operation per lane opens its connection (the LDAP client connects lazily).
  if (opts.primeWith) await Promise.all(lanes.map((l) => l.check(opts.primeWith!)));
  const latency = new Latencies();
  let ops = 0;
  let errors = 0;
  let firstError: string | null = null;
  const start = performance.now();
  const deadline = start + opts.durationMs;
  await Promise.all(lanes.map(async (lane) => {
    for (;;) {
      if (performance.now() >= deadline) return;
      const pair = opts.source();
      if (!pair) return;
      const t0 = performance.now();
      let result: { ok: boolean; detail?: string };
      try {
        result = await lane.check(pair);
      } catch (e) {
        result = { ok: false, detail: String(e) };
      }
      latency.add(performance.now() - t0);
      ops++;
      if (!result.ok) {
        errors++;
        firstError ??= `${pair.user}: ${result.detail ?? 'failed'}`;
      }
    }
  }));
  const elapsedMs = performance.now() - start;
  await Promise.all(lanes.map((l) => l.close()));
  return { ops, errors, firstError, elapsedMs, perSecond: (ops / elapsedMs) * 1000, latency };
}

/**
 * POST /api/v1/service-tokens/verify over keep-alive connections (one per lane). With several
 * servers, lane k talks to server k mod n, as a load balancer with sticky connections would.
 */
export function tesseraSide(baseUrls: string | readonly string[], key: string, name = 'Tessera'): Side & { verify(pair: Pair): Promise<{ status: number; valid: boolean | undefined }> } {
  const urls = (typeof baseUrls === 'string' ? [baseUrls] : baseUrls).map((u) => new URL('/api/v1/service-tokens/verify', u));
  let lanes = 0;
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  const post = (agent: Agent, pair: Pair, url = urls[0]!) =>
    new Promise<{ status: number; valid: boolean | undefined }>((resolve, reject) => {
      const body = JSON.stringify({ identifier: pair.user, token: pair.token });
      const req = request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          try {
            const json = JSON.parse(Buffer.concat(chunks).toString()) as { valid?: boolean };
            resolve({ status: res.statusCode ?? 0, valid: json.valid });
          } catch (e) {
            reject(e);
          }
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  const shared = new Agent({ keepAlive: true, maxSockets: 1 });
  return {
    name,
    async openLane() {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const url = urls[lanes++ % urls.length]!;
      return {
        async check(pair) {
          const r = await post(agent, pair, url);
          return r.status === 200 && r.valid === true ? { ok: true } : { ok: false, detail: `HTTP ${r.status}, valid=${String(r.valid)}` };
        },
        async close() {
          agent.destroy();
        },
      };
    },
    verify: (pair) => post(shared, pair).finally(() => shared.destroy()),
  };
}

/** LDAP simple binds, repeated on one persistent connection per lane (what pooling services do). */
export function ldapPersistentSide(url: string, name = 'slapd'): Side {
  return {
    name,
    async openLane() {
      const client = new Client({ url, timeout: 30_000, connectTimeout: 5_000 });
      return {
        async check(pair) {
          await client.bind(pair.dn, pair.token);
          return { ok: true };
        },
        close: () => client.unbind().catch(() => undefined),
      };
    },
  };
}

/** LDAP simple binds, each on a new TCP connection: connect, bind, unbind. */
export function ldapNewConnectionSide(url: string, name = 'slapd, new connection per bind'): Side {
  return {
    name,
    async openLane() {
      return {
        async check(pair) {
          const client = new Client({ url, timeout: 30_000, connectTimeout: 5_000 });
          try {
            await client.bind(pair.dn, pair.token);
            return { ok: true };
          } finally {
            await client.unbind().catch(() => undefined);
          }
        },
        async close() {},
      };
    },
  };
}

/** Whether slapd refuses the bind with invalidCredentials (49), as it must for a wrong token. */
export async function ldapBindRefused(url: string, dn: string, token: string): Promise<boolean> {
  const client = new Client({ url, timeout: 30_000 });
  try {
    await client.bind(dn, token);
    return false;
  } catch (e) {
    return e instanceof InvalidCredentialsError;
  } finally {
    await client.unbind().catch(() => undefined);
  }
}
