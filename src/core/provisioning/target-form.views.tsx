import type { Co } from '../cos/co.service.ts';
import { Checkbox, FormErrors, messageFor, PostForm, SelectField, TextArea, TextField, type FormState } from '../web/components.views.tsx';
import { coCrumbs, Layout } from '../web/layout.views.tsx';
import type { PageContext } from '../web/page-context.ts';
import type { ConfigField } from './config-form.ts';
import type { Target } from './provisioner.ts';
import { PROVISIONING_MODES } from './provisioning.table.ts';
import { MODE_LABELS, optionsOf, targetHref, targetsCrumb, targetsHref, type Option, type ReferenceOptions } from './provisioning-common.views.tsx';

/** Step one of a new target: its type decides which settings the form asks for. */
export function TargetTypePage(props: { page: PageContext; co: Co; types: Option[]; form: FormState }) {
  const { page, co } = props;
  return (
    <Layout page={page} title="New provisioning target" crumbs={coCrumbs(co, targetsCrumb(co), { label: 'New target' })}>
      <form method="get" action={`${targetsHref(co)}/new`} class="narrow">
        <FormErrors form={props.form} />
        <SelectField form={props.form} name="provisionerType" label="Type" options={props.types} required hint="What kind of system the target is. The next step asks for its settings." />
        <div class="actions">
          <button type="submit">Continue</button>
          <a href={targetsHref(co)}>Cancel</a>
        </div>
      </form>
    </Layout>
  );
}

function ChoicesField(props: { form: FormState; field: ConfigField }) {
  const { form, field } = props;
  const v = form.values[field.formName];
  const chosen = new Set((Array.isArray(v) ? v : typeof v === 'string' ? [v] : []).map(String));
  const message = messageFor(form, field.formName);
  return (
    <fieldset class={message ? 'invalid' : undefined}>
      <legend>{field.label}</legend>
      {field.hint && <small>{field.hint}</small>}
      {field.options.map((option) => {
        const id = `f-${field.formName}-${option}`;
        return (
          <div class="field checkbox">
            <label for={id}>
              <input id={id} type="checkbox" name={field.formName} value={option} checked={chosen.has(option)} /> {option}
            </label>
          </div>
        );
      })}
      {message && <small id={`f-${field.formName}-msg`} class="error">{message}</small>}
    </fieldset>
  );
}

/** One setting of the provisioner, rendered from what its schema says the value is. */
function ConfigInput(props: { form: FormState; field: ConfigField; editing: boolean; references: ReferenceOptions }) {
  const { form, field } = props;
  const common = { form, name: field.formName, label: field.label };
  switch (field.kind) {
    case 'password':
      return (
        <TextField
          {...common}
          type="password"
          autocomplete="new-password"
          required={field.required && !props.editing}
          hint={props.editing ? 'Stored encrypted and never shown. Leave empty to keep the current one.' : 'Stored encrypted and never shown again.'}
        />
      );
    case 'checkbox':
      return <Checkbox {...common} {...(field.hint ? { hint: field.hint } : {})} />;
    case 'select':
      // An optional choice without a default may be left unset.
      return <SelectField {...common} options={[...(field.required || field.defaultValue !== undefined ? [] : [{ value: '', label: '(none)' }]), ...field.options.map((o) => ({ value: o, label: o }))]} {...(field.hint ? { hint: field.hint } : {})} />;
    case 'reference':
      return <SelectField {...common} required={field.required} options={[{ value: '', label: 'Choose…' }, ...optionsOf(props.references, field)]} {...(field.hint ? { hint: field.hint } : {})} />;
    case 'choices':
      return <ChoicesField form={form} field={field} />;
    case 'lines':
      return <TextArea {...common} hint={field.hint ? `${field.hint} One a line.` : 'One a line.'} />;
    default:
      return <TextField {...common} type={field.kind} required={field.required} autocomplete="off" {...(field.hint ? { hint: field.hint } : {})} />;
  }
}

/** Step two (and the edit form): the target's own fields, then its provisioner's settings. */
export function TargetFormPage(props: {
  page: PageContext;
  co: Co;
  target: Target | undefined;
  type: Option;
  fields: ConfigField[];
  form: FormState;
  groups: Option[];
  references: ReferenceOptions;
}) {
  const { page, co, target, form } = props;
  const title = target ? `Edit ${target.description}` : `New ${props.type.label} target`;
  const crumbs = target ? coCrumbs(co, targetsCrumb(co), { label: target.description, href: targetHref(co, target) }, { label: 'Edit' }) : coCrumbs(co, targetsCrumb(co), { label: 'New target' });
  return (
    <Layout page={page} title={title} crumbs={crumbs}>
      <PostForm action={target ? `${targetHref(co, target)}/edit` : targetsHref(co)} csrfToken={page.csrfToken}>
        <FormErrors form={form} />
        <input type="hidden" name="provisionerType" value={props.type.value} />
        <p>
          Type: <strong>{props.type.label}</strong>
          {!target && (
            <>
              {' '}
              (<a href={`${targetsHref(co)}/new?choose=1`}>choose another type</a>)
            </>
          )}
        </p>
        <TextField form={form} name="description" label="Description" required autocomplete="off" hint="Shown to administrators, e.g. “Main LDAP directory”." />
        <SelectField form={form} name="mode" label="Mode" options={PROVISIONING_MODES.map((m) => ({ value: m, label: MODE_LABELS[m] }))} hint="When the target receives changes." />
        <TextField form={form} name="ordinal" label="Order" type="number" required hint="Targets run in increasing order for each person; removals run in reverse." />
        <TextField form={form} name="retryIntervalSeconds" label="Retry interval (seconds)" type="number" required hint="The wait before the first retry; it doubles after each failure (at most an hour)." />
        <TextField form={form} name="maxRetries" label="Maximum retries" type="number" required hint="After these, the job stays failed until retried by hand." />
        <SelectField
          form={form}
          name="provisionGroupId"
          label="Provisioning group"
          options={[{ value: '', label: 'Everyone in the CO' }, ...props.groups]}
          hint="When set, only the group’s members are provisioned; everyone else is removed from the target."
        />
        <fieldset>
          <legend>{props.type.label} settings</legend>
          {props.fields.length === 0 && <p class="muted">This type has no settings.</p>}
          {props.fields.map((field) => (
            <ConfigInput form={form} field={field} editing={target !== undefined} references={props.references} />
          ))}
        </fieldset>
        <div class="actions">
          <button type="submit">{target ? 'Save' : 'Create target'}</button>
          <a href={target ? targetHref(co, target) : targetsHref(co)}>Cancel</a>
        </div>
      </PostForm>
    </Layout>
  );
}
