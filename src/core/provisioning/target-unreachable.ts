// A target's system that cannot be reached (a directory that is down) is not a failure of the job:
// the worker holds the job, without counting the attempt against the target's maximum of retries,
// and releases it as soon as a probe finds the system again (see held-jobs.ts).

/**
 * Thrown (or marked, see `markUnreachable`) by a provisioner when the target's system could not be
 * reached at all: connection refused, reset or timed out, the host unreachable, the server busy or
 * unavailable. Never for an answer that refuses the operation (a schema violation, invalid
 * credentials, a rejected certificate): those fail the job and back off as usual.
 */
export class TargetUnreachableError extends Error {
  override name = 'TargetUnreachableError';
  readonly targetUnreachable = true;
}

/** Marks an error as "the target could not be reached" (keeping its class and message); returns it. */
export function markUnreachable<E extends Error>(error: E): E & { targetUnreachable: true } {
  return Object.assign(error, { targetUnreachable: true as const });
}

/** Whether a provisioner's error says the target's system could not be reached. */
export function isTargetUnreachable(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { targetUnreachable?: unknown }).targetUnreachable === true;
}

/** Node's socket error codes that mean the peer could not be reached or went away. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EHOSTUNREACH', 'EHOSTDOWN', 'ENETUNREACH', 'ENETDOWN', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN']);

/**
 * Whether a low-level error is a network failure (Node's socket error codes above, or a client
 * library's "connection timeout", "connection closed" and "socket error" messages), as opposed to
 * an answer of the remote system.
 */
export function isNetworkFailure(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  if (typeof e?.code === 'string' && NETWORK_CODES.has(e.code)) return true;
  const message = typeof e?.message === 'string' ? e.message : '';
  return /^(Connection timeout|Connection closed before message response|Socket error\.)|Operation timed out|socket hang up/i.test(message);
}
