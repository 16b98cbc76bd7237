import type { ComponentChildren } from 'preact';
import { CSRF_FIELD } from '../http/csrf.ts';
import type { FieldIssue } from '../errors/app-error.ts';

/** Values typed into a form and the messages for its fields, so a wrong form re-renders intact. */
export interface FormState {
  values: Record<string, unknown>;
  issues: FieldIssue[];
  /** A message about the whole form (e.g. a conflict). */
  error?: string | undefined;
}

export const emptyForm = (values: Record<string, unknown> = {}): FormState => ({ values, issues: [] });

export function messageFor(form: FormState, field: string): string | undefined {
  return form.issues.find((i) => i.field === field)?.message;
}

function str(v: unknown): string {
  return v === undefined || v === null ? '' : String(v);
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

export function TextField(props: {
  form: FormState;
  name: string;
  label: string;
  type?: string;
  required?: boolean;
  hint?: string;
  autocomplete?: string;
  placeholder?: string;
}) {
  const message = messageFor(props.form, props.name);
  const id = `f-${props.name}`;
  return (
    <div class={`field${message ? ' invalid' : ''}`}>
      <label for={id}>
        {props.label}
        {props.required && <span aria-hidden="true"> *</span>}
      </label>
      <input
        id={id}
        name={props.name}
        type={(props.type ?? 'text') as 'text'}
        value={str(props.form.values[props.name])}
        required={props.required}
        autocomplete={props.autocomplete}
        placeholder={props.placeholder}
        aria-invalid={message ? 'true' : undefined}
        aria-describedby={message ? `${id}-msg` : props.hint ? `${id}-hint` : undefined}
      />
      {props.hint && !message && <small id={`${id}-hint`}>{props.hint}</small>}
      {message && <small id={`${id}-msg`} class="error">{message}</small>}
    </div>
  );
}

export function TextArea(props: { form: FormState; name: string; label: string; hint?: string }) {
  const message = messageFor(props.form, props.name);
  const id = `f-${props.name}`;
  return (
    <div class={`field${message ? ' invalid' : ''}`}>
      <label for={id}>{props.label}</label>
      <textarea id={id} name={props.name} rows={3} aria-invalid={message ? 'true' : undefined}>
        {str(props.form.values[props.name])}
      </textarea>
      {props.hint && !message && <small>{props.hint}</small>}
      {message && <small class="error">{message}</small>}
    </div>
  );
}

export function SelectField(props: { form: FormState; name: string; label: string; options: Array<{ value: string; label: string }>; hint?: string; required?: boolean }) {
  const message = messageFor(props.form, props.name);
  const id = `f-${props.name}`;
  const current = str(props.form.values[props.name]);
  return (
    <div class={`field${message ? ' invalid' : ''}`}>
      <label for={id}>{props.label}</label>
      <select id={id} name={props.name} required={props.required} aria-invalid={message ? 'true' : undefined}>
        {props.options.map((o) => (
          <option value={o.value} selected={o.value === current}>
            {o.label}
          </option>
        ))}
      </select>
      {props.hint && !message && <small>{props.hint}</small>}
      {message && <small class="error">{message}</small>}
    </div>
  );
}

export function Checkbox(props: { form: FormState; name: string; label: string; hint?: string }) {
  const v = props.form.values[props.name];
  const checked = v === true || v === 'on' || v === '1' || v === 'true';
  const message = messageFor(props.form, props.name);
  return (
    <div class={`field checkbox${message ? ' invalid' : ''}`}>
      <label>
        <input type="checkbox" name={props.name} checked={checked} /> {props.label}
      </label>
      {props.hint && <small>{props.hint}</small>}
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
