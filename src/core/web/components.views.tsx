import type { ComponentChildren } from 'preact';
import { CSRF_FIELD } from '../http/csrf.ts';
import type { FieldIssue } from '../errors/app-error.ts';

/** Values typed into a form and the messages for its fields, so a wrong form re-renders intact. */
export interface FormState {
  values: Record<string, unknown>;
  issues: FieldIssue[];
  /** A message about the whole form (e.g. a conflict). */
  error?: string | undefined;
  /** Prefixes the field ids, so two forms on one page keep their labels apart. */
  idPrefix?: string;
}

export const emptyForm = (values: Record<string, unknown> = {}): FormState => ({ values, issues: [] });

export function messageFor(form: FormState, field: string): string | undefined {
  return form.issues.find((i) => i.field === field)?.message;
}

function str(v: unknown): string {
  return v === undefined || v === null ? '' : String(v);
}

function fieldId(form: FormState, name: string): string {
  return form.idPrefix ? `f-${form.idPrefix}-${name}` : `f-${name}`;
}

export function PostForm(props: { action: string; csrfToken: string; children: ComponentChildren; class?: string; confirm?: string }) {
  return (
    <form method="post" action={props.action} class={props.class} data-confirm={props.confirm}>
      <input type="hidden" name={CSRF_FIELD} value={props.csrfToken} />
      {props.children}
    </form>
  );
}

/** A single button that POSTs (every state change is a POST), optionally asking for confirmation. */
export function ActionButton(props: { action: string; csrfToken: string; label: string; confirm?: string; danger?: boolean; hidden?: Record<string, string> }) {
  return (
    <PostForm action={props.action} csrfToken={props.csrfToken} class="inline" confirm={props.confirm}>
      {Object.entries(props.hidden ?? {}).map(([k, v]) => (
        <input type="hidden" name={k} value={v} />
      ))}
      <button type="submit" class={props.danger ? 'danger' : 'secondary'}>
        {props.label}
      </button>
    </PostForm>
  );
}

export function FormErrors(props: { form: FormState }) {
  if (!props.form.error && props.form.issues.length === 0) return null;
  return (
    <div class="form-errors" role="alert">
      <p>{props.form.error ?? 'Please correct the fields marked below.'}</p>
    </div>
  );
}

/** What a field's control carries so that its label, hint and message belong to it. */
interface FieldAria {
  'aria-invalid': 'true' | undefined;
  'aria-describedby': string | undefined;
}

/**
 * A labelled field: the label (with a star when required), the control, then the hint, or the
 * message when the value was refused. `control` is given the id and the ARIA attributes.
 */
function Field(props: { form: FormState; name: string; label: string; required?: boolean | undefined; hint?: string | undefined; control: (id: string, aria: FieldAria) => ComponentChildren }) {
  const message = messageFor(props.form, props.name);
  const id = fieldId(props.form, props.name);
  const aria: FieldAria = { 'aria-invalid': message ? 'true' : undefined, 'aria-describedby': message ? `${id}-msg` : props.hint ? `${id}-hint` : undefined };
  return (
    <div class={`field${message ? ' invalid' : ''}`}>
      <label for={id}>
        {props.label}
        {props.required && <span aria-hidden="true"> *</span>}
      </label>
      {props.control(id, aria)}
      {props.hint && !message && <small id={`${id}-hint`}>{props.hint}</small>}
      {message && <small id={`${id}-msg`} class="error">{message}</small>}
    </div>
  );
}

export function TextField(props: {
  form: FormState;
  name: string;
  label: string;
  type?: string;
  required?: boolean;
  hint?: string;
  autocomplete?: string;
  placeholder?: string;
  readonly?: boolean;
}) {
  return (
    <Field
      {...props}
      control={(id, aria) => (
        <input
          id={id}
          name={props.name}
          type={(props.type ?? 'text') as 'text'}
          value={str(props.form.values[props.name])}
          required={props.required}
          autocomplete={props.autocomplete}
          placeholder={props.placeholder}
          readonly={props.readonly}
          {...aria}
        />
      )}
    />
  );
}

export function TextArea(props: { form: FormState; name: string; label: string; hint?: string }) {
  return (
    <Field
      {...props}
      control={(id, aria) => (
        <textarea id={id} name={props.name} rows={3} {...aria}>
          {str(props.form.values[props.name])}
        </textarea>
      )}
    />
  );
}

export function SelectField(props: { form: FormState; name: string; label: string; options: Array<{ value: string; label: string }>; hint?: string; required?: boolean }) {
  const current = str(props.form.values[props.name]);
  return (
    <Field
      {...props}
      control={(id, aria) => (
        <select id={id} name={props.name} required={props.required} {...aria}>
          {props.options.map((o) => (
            <option value={o.value} selected={o.value === current}>
              {o.label}
            </option>
          ))}
        </select>
      )}
    />
  );
}

export function Checkbox(props: { form: FormState; name: string; label: string; hint?: string }) {
  const v = props.form.values[props.name];
  const checked = v === true || v === 'on' || v === '1' || v === 'true';
  const message = messageFor(props.form, props.name);
  const id = fieldId(props.form, props.name);
  return (
    <div class={`field checkbox${message ? ' invalid' : ''}`}>
      <label for={id}>
        <input id={id} type="checkbox" name={props.name} checked={checked} aria-describedby={props.hint ? `${id}-hint` : undefined} /> {props.label}
      </label>
      {props.hint && <small id={`${id}-hint`}>{props.hint}</small>}
      {message && <small class="error">{message}</small>}
    </div>
  );
}

export function EmptyState(props: { children: ComponentChildren }) {
  return <div class="empty">{props.children}</div>;
}

export function StatusBadge(props: { status: string }) {
  return <span class={`badge badge-${props.status}`}>{props.status.replace(/_/g, ' ')}</span>;
}

export function Time(props: { iso: string | null | undefined }) {
  if (!props.iso) return <span class="muted">—</span>;
  return <time datetime={props.iso}>{props.iso.replace('T', ' ').slice(0, 16)} UTC</time>;
}

/** "Showing 26–50 of 80" with previous and next links; `href` builds the link of a page. */
export function Pager(props: { page: number; pageSize: number; total: number; href: (page: number) => string; atLeast?: { shown: number } }) {
  const { page, pageSize, total } = props;
  if (props.atLeast) return <OpenEndedPager {...props} shown={props.atLeast.shown} />;
  const pages = Math.max(1, Math.ceil(total / pageSize));
  if (total === 0) return null;
  const first = Math.min(total, (page - 1) * pageSize + 1);
  const last = Math.min(total, page * pageSize);
  // One page: the count alone, without two links that lead nowhere.
  if (pages === 1 && page === 1) return <p class="pager muted">Showing {first}–{last} of {total}</p>;
  return (
    <nav class="pager" aria-label="Pages">
      {page > 1 ? <a href={props.href(page - 1)} rel="prev">← Previous</a> : <span class="muted">← Previous</span>}
      <span>{first <= last ? `Showing ${first}–${last} of ${total}` : `Page ${page} of ${pages}`}</span>
      {page < pages ? <a href={props.href(page + 1)} rel="next">Next →</a> : <span class="muted">Next →</span>}
    </nav>
  );
}

/** The pager of a list counted only up to `total` ("more than total"): a next page while a page is full. */
function OpenEndedPager(props: { page: number; pageSize: number; total: number; href: (page: number) => string; shown: number }) {
  const { page, pageSize, total, shown } = props;
  const first = (page - 1) * pageSize + 1;
  return (
    <nav class="pager" aria-label="Pages">
      {page > 1 ? <a href={props.href(page - 1)} rel="prev">← Previous</a> : <span class="muted">← Previous</span>}
      <span>{shown > 0 ? `Showing ${first}–${first + shown - 1} of more than ${total.toLocaleString('en-US')}` : `Page ${page}`}</span>
      {shown === pageSize ? <a href={props.href(page + 1)} rel="next">Next →</a> : <span class="muted">Next →</span>}
    </nav>
  );
}

/** A grid of links, each with a line saying what is behind it. */
export function MenuGrid(props: { entries: Array<{ label: string; href: string; description?: string }> }) {
  return (
    <ul class="menu-grid">
      {props.entries.map((e) => (
        <li>
          <a href={e.href}>
            <strong>{e.label}</strong>
            {e.description && <small>{e.description}</small>}
          </a>
        </li>
      ))}
    </ul>
  );
}

/** A yes/no value in a table, readable without colour. */
export function YesNo(props: { value: boolean }) {
  return props.value ? <span>Yes</span> : <span class="muted">No</span>;
}

/**
 * A form that posts a change: the form's errors first, then its fields, then the submit button;
 * with `cancel`, the button and a Cancel link side by side.
 */
export function EditForm(props: { action: string; csrfToken: string; form: FormState; submit: string; cancel?: string; class?: string; children: ComponentChildren }) {
  return (
    <PostForm action={props.action} csrfToken={props.csrfToken} class={props.class}>
      <FormErrors form={props.form} />
      {props.children}
      {props.cancel === undefined ? (
        <button type="submit">{props.submit}</button>
      ) : (
        <div class="actions">
          <button type="submit">{props.submit}</button>
          <a href={props.cancel}>Cancel</a>
        </div>
      )}
    </PostForm>
  );
}

/** A titled part of a page; `id` names its heading for `aria-labelledby`. */
export function Section(props: { id: string; title: ComponentChildren; class?: string; children: ComponentChildren }) {
  return (
    <section class={props.class} aria-labelledby={props.id}>
      <h2 id={props.id}>{props.title}</h2>
      {props.children}
    </section>
  );
}

/** Labelled values of one thing (its type, status, dates…), in order. */
export function Facts(props: { facts: Array<[label: string, value: ComponentChildren]> }) {
  return (
    <dl class="facts">
      {props.facts.map(([label, value]) => (
        <>
          <dt>{label}</dt>
          <dd>{value}</dd>
        </>
      ))}
    </dl>
  );
}

/** The link to a list's "new" page, above the list. */
export function NewLink(props: { href: string; label: string }) {
  return (
    <p class="actions">
      <a class="button" href={props.href}>{props.label}</a>
    </p>
  );
}
