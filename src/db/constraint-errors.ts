/**
 * Recognises a unique-constraint violation from either dialect (PostgreSQL SQLSTATE 23505, SQLite's
 * `SQLITE_CONSTRAINT_UNIQUE` / `_PRIMARYKEY`), so the repository that owns a table can turn it into a
 * domain error (409) instead of a 500. `constraintHint` narrows the match to one constraint: it is
 * looked for in PostgreSQL's `constraint` field and in the error message (SQLite names the columns
 * or the index there).
 */
export function isUniqueViolation(error: unknown, constraintHint?: string): boolean {
  if (!error || typeof error !== 'object') return false;
  const e = error as { code?: string; constraint?: string; message?: string };
  const unique = e.code === '23505' || e.code === 'SQLITE_CONSTRAINT_UNIQUE' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
  if (!unique) return false;
  if (!constraintHint) return true;
  return (e.constraint ?? '').includes(constraintHint) || (e.message ?? '').includes(constraintHint);
}

/**
 * Awaits a write and replaces a unique-constraint violation by the domain error `toError` makes
 * (logto maps `personal_access_tokens_pkey` to "name exists" the same way); any other failure is
 * rethrown as it is. On PostgreSQL the violation aborts the surrounding transaction, so the caller
 * must let the domain error end it rather than carry on.
 */
export async function mapUniqueViolation<T>(write: Promise<T>, toError: () => Error, constraintHint?: string): Promise<T> {
  try {
    return await write;
  } catch (e) {
    if (isUniqueViolation(e, constraintHint)) throw toError();
    throw e;
  }
}
