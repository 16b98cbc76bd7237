import { z } from 'zod';
import { AppError, type FieldIssue } from '../errors/app-error.ts';
import { CORE_ERRORS } from '../errors/error-codes.ts';
import { manyLinesText, NUL_MESSAGE, nulCharacterPath, oneLineText, optionalRfc3339DateTime } from '../text.ts';

/**
 * A trimmed one-line text field under Tessera's text rule (`oneLineText` in core/text.ts: NFC, no
 * control character). Forms send "" for an empty input; optional fields turn that into undefined
 * so the same schema serves HTML forms and JSON bodies.
 */
export function text(opts: { min?: number; max: number }) {
  return oneLineText(opts);
}

/** An optional one-line text field (see `text`); an empty value is null. */
export function optionalText(opts: { max: number }) {
  return z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? null : v), oneLineText(opts).nullable().optional());
}

/** A text of several lines (a description) under the text rule: tab, line feed and carriage return allowed. */
export function paragraphText(opts: { min?: number; max: number }) {
  return manyLinesText(opts);
}

/** A checkbox: present ("on", "1", "true") or a JSON boolean. */
export const checkbox = z.preprocess((v) => v === true || v === 'on' || v === '1' || v === 'true', z.boolean());

/** An optional RFC 3339 date-time with an offset, as UTC ISO text (see `rfc3339DateTime`). */
export const optionalDateTime = optionalRfc3339DateTime;

export function issuesOf(error: z.ZodError): FieldIssue[] {
  return error.issues.map((i) => ({ field: i.path.join('.') || '(body)', message: i.message }));
}

/**
 * Parses input with a schema; a failure is a VALIDATION_FAILED error naming every field. A NUL
 * character anywhere in the input is refused first, whatever the field's schema: PostgreSQL cannot
 * store it, and no Tessera field has a use for it.
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const nul = nulCharacterPath(input);
  if (nul !== undefined) {
    throw new AppError(CORE_ERRORS.VALIDATION_FAILED, { message: `${nul}: ${NUL_MESSAGE}`, issues: [{ field: nul, message: NUL_MESSAGE }] });
  }
  const result = schema.safeParse(input ?? {});
  if (!result.success) {
    const issues = issuesOf(result.error);
    throw new AppError(CORE_ERRORS.VALIDATION_FAILED, {
      message: `${issues[0]?.field}: ${issues[0]?.message}`,
      issues,
    });
  }
  return result.data;
}
