import type { FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { AppError, type FieldIssue } from '../errors/app-error.ts';
import { CSRF_FIELD } from '../http/csrf.ts';
import { issuesOf } from '../http/validation.ts';
import type { FormState } from './components.views.tsx';

/** The fields a browser posted, without the CSRF token: what a re-rendered form shows again. */
export function postedValues(request: FastifyRequest): Record<string, unknown> {
  const body = request.body;
  if (!body || typeof body !== 'object' || Array.isArray(body)) return {};
  const { [CSRF_FIELD]: _csrf, ...values } = body as Record<string, unknown>;
  return values;
}

/** A posted string field, or '' when it is absent or not a single string. */
export function postedString(values: Record<string, unknown>, name: string): string {
  const v = values[name];
  return typeof v === 'string' ? v : '';
}

// NUL and other C0 controls (tab, newline and carriage return aside) are never meaningful in a
// registry field, and PostgreSQL refuses NUL in text: rejected here, they cannot become a 500.
const CONTROL_CHARS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

function controlCharIssues(values: Record<string, unknown>): FieldIssue[] {
  const issues: FieldIssue[] = [];
  for (const [field, v] of Object.entries(values)) {
    const texts = Array.isArray(v) ? v : [v];
    if (texts.some((x) => typeof x === 'string' && CONTROL_CHARS.test(x))) issues.push({ field, message: 'Contains control characters' });
  }
  return issues;
}

/**
 * `<input type="datetime-local">` sends a time without a zone ("2026-11-28T09:00"); the forms
 * label such fields as UTC, so that is what it is taken to mean (not the server's zone).
 */
export function localTimesAsUtc(values: Record<string, unknown>, fields: readonly string[]): Record<string, unknown> {
  const out = { ...values };
  for (const f of fields) {
    const v = out[f];
    // RFC 3339 wants the seconds, which the browser leaves out when they are zero.
    if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/.test(v.trim())) out[f] = `${v.trim().length === 16 ? `${v.trim()}:00` : v.trim()}Z`;
  }
  return out;
}

export type FormOutcome<T> = { ok: true; value: T } | { ok: false; form: FormState; status: number };

/**
 * Runs a form submission: checks the posted values with the schema (the one the API uses), then
 * the change. What the person can correct — invalid input (400), a conflict such as a duplicate
 * (409), a refused change (422), or an id chosen in the form that is not in the CO (404 on a
 * field) — comes back as the form with the typed values and the message on its field. Anything
 * else (403, a 404 of the page itself, a bug) propagates to the error page.
 *
 * `toInput` shapes flat form fields into the schema's input; `fieldOf` maps an issue's path back
 * to the form field that shows it.
 */
export async function submitForm<S extends z.ZodType, T>(
  schema: S,
  values: Record<string, unknown>,
  run: (input: z.output<S>) => Promise<T>,
  options: { toInput?: (values: Record<string, unknown>) => unknown; fieldOf?: (path: string) => string; idPrefix?: string } = {},
): Promise<FormOutcome<T>> {
  const fieldOf = options.fieldOf ?? ((p: string) => p);
  const failed = (issues: FieldIssue[], status: number, error?: string): FormOutcome<T> => {
    const mapped = issues.map((i) => ({ field: fieldOf(i.field), message: i.message }));
    const bodyIssue = mapped.find((i) => i.field === '(body)');
    return {
      ok: false,
      status,
      form: { values, issues: mapped, error: error ?? bodyIssue?.message, ...(options.idPrefix ? { idPrefix: options.idPrefix } : {}) },
    };
  };

  const controls = controlCharIssues(values);
  if (controls.length > 0) return failed(controls, 400);
  const parsed = schema.safeParse(options.toInput ? options.toInput(values) : values);
  if (!parsed.success) return failed(issuesOf(parsed.error), 400);
  try {
    return { ok: true, value: await run(parsed.data) };
  } catch (e) {
    if (!(e instanceof AppError)) throw e;
    const correctable = e.kind === 'BAD_REQUEST' || e.kind === 'CONFLICT' || e.kind === 'UNPROCESSABLE' || (e.kind === 'NOT_FOUND' && e.field !== undefined);
    if (!correctable) throw e;
    const issues = e.issues.length > 0 ? e.issues : [{ field: '(body)', message: e.message }];
    return failed(issues, e.status, e.kind === 'BAD_REQUEST' ? undefined : e.message);
  }
}
