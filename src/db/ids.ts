import { randomUUID } from 'node:crypto';

/** Ids are made by the application (portable across dialects, never guessable in sequence). */
export function newId(): string {
  return randomUUID();
}

/** True for a value that can be an id, so a malformed id in a URL is a 404 rather than a query. */
export function isId(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(value);
}
