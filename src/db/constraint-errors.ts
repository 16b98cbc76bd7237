/**
 * Recognises a unique-constraint violation from either dialect, so the repository that owns a
 * table can turn it into a domain error (409) instead of a 500.
 */
export function isUniqueViolation(error: unknown, constraintHint?: string): boolean {
  if (!error || typeof error !== 'object') return false;
  const e = error as { code?: string; constraint?: string; message?: string };
  const unique = e.code === '23505' || e.code === 'SQLITE_CONSTRAINT_UNIQUE' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
  if (!unique) return false;
  if (!constraintHint) return true;
  return (e.constraint ?? '').includes(constraintHint) || (e.message ?? '').includes(constraintHint);
}
