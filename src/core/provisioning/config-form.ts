import { z } from 'zod';
import type { Provisioner } from './provisioner.ts';

/**
 * A provisioner's settings as form fields, read from its zod schema, so every provisioner type gets
 * a form without writing one: strings become text inputs (URL and email formats their own types),
 * numbers number inputs, booleans checkboxes, enums selects, arrays of an enum a group of
 * checkboxes, other arrays a text area with one value a line, and secret fields password inputs
 * that are never filled in. A field's `.meta({ title, description })` gives its label and hint.
 */
export type ConfigFieldKind = 'text' | 'url' | 'email' | 'number' | 'password' | 'checkbox' | 'select' | 'choices' | 'lines' | 'reference';

/**
 * What a `reference` field holds the id of: another target of the CO, a CO Service or a group.
 * Declared with `.meta({ references: 'service' })`, or read from names ending in TargetId,
 * ServiceId or GroupId; the form offers the CO's own objects in a select. `choice`: values the
 * provisioner offers for that setting (`Provisioner.choices`, by setting name).
 */
export type ConfigReference = 'target' | 'service' | 'group' | 'choice';

export interface ConfigField {
  /** The key in the settings object. */
  name: string;
  /** The form field: `config.<name>`, which is also how validation messages name it. */
  formName: string;
  label: string;
  hint: string | undefined;
  kind: ConfigFieldKind;
  /** Values of a select or of a group of checkboxes. */
  options: string[];
  references: ConfigReference | undefined;
  /** False when the schema accepts the field absent (optional or with a default). */
  required: boolean;
  defaultValue: unknown;
}

type Def = {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
  element?: z.ZodType;
  format?: string;
  entries?: Record<string, string | number>;
  values?: unknown[];
  defaultValue?: unknown;
  getter?: () => z.ZodType;
};

/** The schema's definition (zod's public `def`), read through the few fields this form uses. */
const defOf = (schema: z.ZodType): Def => schema.def as Def;

const ACRONYMS = new Set(['dn', 'url', 'uri', 'tls', 'id', 'uid', 'ldap', 'dns', 'ip', 'api']);

/** `bindDn` → "Bind DN", `startTls` → "Start TLS". */
function humanize(name: string): string {
  const words = name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/[_-]+/g, ' ').split(' ').filter(Boolean);
  return words.map((w, i) => (ACRONYMS.has(w.toLowerCase()) ? w.toUpperCase() : i === 0 ? w[0]!.toUpperCase() + w.slice(1) : w.toLowerCase())).join(' ');
}

/** Strips optional/default/pipe wrappers down to the schema that says what the value is. */
function unwrap(schema: z.ZodType): { core: z.ZodType; optional: boolean; defaultValue: unknown; title?: string; description?: string; references?: ConfigReference } {
  let current = schema;
  let optional = false;
  let defaultValue: unknown;
  let title: string | undefined;
  let description: string | undefined;
  let references: ConfigReference | undefined;
  for (let depth = 0; depth < 20; depth++) {
    const meta = z.globalRegistry.get(current) as { title?: string; description?: string; references?: ConfigReference } | undefined;
    title ??= meta?.title;
    description ??= meta?.description ?? current.description;
    references ??= meta?.references;
    const def = defOf(current);
    if ((def.type === 'optional' || def.type === 'nullable' || def.type === 'catch' || def.type === 'readonly') && def.innerType) {
      if (def.type !== 'readonly') optional = true;
      current = def.innerType;
    } else if ((def.type === 'default' || def.type === 'prefault') && def.innerType) {
      optional = true;
      if (defaultValue === undefined) defaultValue = typeof def.defaultValue === 'function' ? (def.defaultValue as () => unknown)() : def.defaultValue;
      current = def.innerType;
    } else if (def.type === 'pipe' && def.in && def.out) {
      // A preprocess (transform → schema) is described by its output; a schema → transform by its input.
      current = defOf(def.in).type === 'transform' ? def.out : def.in;
    } else if (def.type === 'lazy' && def.getter) {
      current = def.getter();
    } else {
      break;
    }
  }
  return { core: current, optional, defaultValue, ...(title ? { title } : {}), ...(description ? { description } : {}), ...(references ? { references } : {}) };
}

function enumValues(schema: z.ZodType): string[] | undefined {
  const def = defOf(schema);
  if (def.type === 'enum' && def.entries) return Object.values(def.entries).map(String);
  if (def.type === 'literal' && def.values) return def.values.map(String);
  return undefined;
}

function referenceByName(name: string): ConfigReference | undefined {
  if (/(^t|T)argetId$/.test(name)) return 'target';
  if (/(^s|S)erviceId$/.test(name)) return 'service';
  if (/(^g|G)roupId$/.test(name)) return 'group';
  return undefined;
}

export function describeConfig(provisioner: Pick<Provisioner, 'configSchema' | 'secretFields'>): ConfigField[] {
  const root = unwrap(provisioner.configSchema).core;
  if (defOf(root).type !== 'object') return [];
  if (!(root instanceof z.ZodObject)) return [];
  const shape: Record<string, z.ZodType> = root.shape;
  return Object.entries(shape).map(([name, schema]) => {
    const { core, optional, defaultValue, title, description, references: declared } = unwrap(schema);
    const def = defOf(core);
    let kind: ConfigFieldKind = 'text';
    let options: string[] = [];
    const references = def.type === 'string' ? (declared ?? referenceByName(name)) : undefined;
    if (provisioner.secretFields.includes(name)) kind = 'password';
    else if (references) kind = 'reference';
    else if (def.type === 'boolean') kind = 'checkbox';
    else if (def.type === 'number' || def.type === 'int' || def.type === 'bigint') kind = 'number';
    else if (enumValues(core)) {
      kind = 'select';
      options = enumValues(core)!;
    } else if (def.type === 'array' && def.element) {
      const element = enumValues(unwrap(def.element).core);
      kind = element ? 'choices' : 'lines';
      options = element ?? [];
    } else if (def.type === 'string' && def.format === 'url') kind = 'url';
    else if (def.type === 'string' && def.format === 'email') kind = 'email';
    const label = title ?? (references ? humanize(name.replace(/Id$/, '')) : humanize(name));
    return { name, formName: `config.${name}`, label, hint: description, kind, options, references, required: !optional, defaultValue };
  });
}

/** The form's values for settings (defaults for a new target); secret fields always empty. */
export function configFormValues(fields: ConfigField[], config: Record<string, unknown> | undefined): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const f of fields) {
    const v = config ? config[f.name] : f.defaultValue;
    if (f.kind === 'password') values[f.formName] = '';
    else if (f.kind === 'lines') values[f.formName] = Array.isArray(v) ? v.join('\n') : (v ?? '');
    else if (f.kind === 'choices') values[f.formName] = Array.isArray(v) ? v.map(String) : [];
    else values[f.formName] = v ?? '';
  }
  return values;
}

/** Shapes posted form fields into a settings object for the provisioner's schema to judge. */
export function configFromForm(fields: ConfigField[], values: Record<string, unknown>): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  for (const f of fields) {
    const v = values[f.formName];
    const text = typeof v === 'string' ? v : Array.isArray(v) ? String(v[v.length - 1] ?? '') : undefined;
    switch (f.kind) {
      case 'checkbox':
        config[f.name] = text === 'on' || text === 'true' || text === '1';
        break;
      case 'choices':
        // An unchecked group posts nothing: that is an empty list, not "use the default".
        config[f.name] = (Array.isArray(v) ? v : v === undefined ? [] : [v]).filter((x) => typeof x === 'string');
        break;
      case 'lines':
        if (text !== undefined && (text.trim() !== '' || f.required)) config[f.name] = text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
        break;
      case 'number':
        if (text !== undefined && (text.trim() !== '' || f.required)) config[f.name] = text.trim() !== '' && Number.isFinite(Number(text)) ? Number(text) : text;
        break;
      case 'password':
        // Empty keeps the stored secret (see prepareConfig).
        if (text !== undefined) config[f.name] = text;
        break;
      default:
        if (text !== undefined && (text !== '' || f.required)) config[f.name] = text;
    }
  }
  return config;
}

/** Where a validation message about the settings is shown: `config.attributes.2` → `config.attributes`. */
export function configFieldOf(path: string): string {
  const parts = path.split('.');
  return parts[0] === 'config' && parts.length > 2 ? `${parts[0]}.${parts[1]}` : path;
}
