import { z } from 'zod';
import { AppError, type FieldIssue } from '../errors/app-error.ts';
import { CORE_ERRORS } from '../errors/error-codes.ts';

/**
 * A trimmed text field. Forms send "" for an empty input; optional fields turn that into
 * undefined so the same schema serves HTML forms and JSON bodies.
 */
export function text(opts: { min?: number; max: number }) {
  let s = z.string().trim().max(opts.max, `At most ${opts.max} characters`);
  if (opts.min) s = s.min(opts.min, opts.min === 1 ? 'Required' : `At least ${opts.min} characters`);
  return s;
}

export function optionalText(opts: { max: number }) {
  return z.preprocess(
    (v) => (typeof v === 'string' && v.trim() === '' ? null : v),
    z.string().trim().max(opts.max, `At most ${opts.max} characters`).nullable().optional(),
  );
}

/** A checkbox: present ("on", "1", "true") or a JSON boolean. */
export const checkbox = z.preprocess((v) => v === true || v === 'on' || v === '1' || v === 'true', z.boolean());

export const optionalDateTime = z.preprocess(
  (v) => (typeof v === 'string' && v.trim() === '' ? null : v),
  z
    .string()
    .refine((v) => !Number.isNaN(Date.parse(v)), 'Not a valid date and time')
    .transform((v) => new Date(v).toISOString())
    .nullable()
    .optional(),
);

export function issuesOf(error: z.ZodError): FieldIssue[] {
  return error.issues.map((i) => ({ field: i.path.join('.') || '(body)', message: i.message }));
}

/** Parses input with a schema; a failure is a VALIDATION_FAILED error naming every field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
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
