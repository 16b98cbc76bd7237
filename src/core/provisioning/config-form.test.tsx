import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { render } from 'preact-render-to-string';
import { z } from 'zod';
import { checkbox } from '../http/validation.ts';
import type { Co } from '../cos/co.service.ts';
import { emptyForm } from '../web/components.views.tsx';
import type { PageContext } from '../web/page-context.ts';
import { configFieldOf, configFormValues, configFromForm, describeConfig } from './config-form.ts';
import { TargetFormPage } from './target-form.views.tsx';

const ATTRIBUTES = ['cn', 'sn', 'mail'] as const;

/** Every shape of setting a provisioner is likely to declare. */
const schema = z
  .object({
    url: z.url().meta({ title: 'Server', description: 'ldap:// or ldaps://' }),
    contact: z.email().optional(),
    bindDn: z.string().trim().min(1, 'Required'),
    bindPassword: z.string().min(1, 'Required'),
    startTls: checkbox.default(false),
    timeoutSeconds: z.coerce.number().int().min(1).default(10),
    flavour: z.enum(['plain', 'fancy']).optional(),
    attributes: z.preprocess((v) => v, z.array(z.enum(ATTRIBUTES)).transform((l) => [...new Set(l)]).default([...ATTRIBUTES])),
    objectClasses: z.array(z.string().min(1)).default(['inetOrgPerson']),
    ldapTargetId: z.string().min(1, 'Choose the LDAP target'),
    serviceId: z.string().min(1),
    ownerGroup: z.string().optional().meta({ references: 'group' }),
  })
  .superRefine((c, rc) => {
    if (c.startTls && c.url.startsWith('ldaps:')) rc.addIssue({ code: 'custom', path: ['startTls'], message: 'Not with ldaps://' });
  });
const provisioner = { configSchema: schema, secretFields: ['bindPassword'] };

describe('Provisioner settings as a form', () => {
  const fields = describeConfig(provisioner);
  const byName = Object.fromEntries(fields.map((f) => [f.name, f]));

  it('reads each setting’s kind, label, hint, choices and whether it is required from the schema', () => {
    assert.deepEqual(
      fields.map((f) => [f.name, f.kind, f.label, f.required]),
      [
        ['url', 'url', 'Server', true],
        ['contact', 'email', 'Contact', false],
        ['bindDn', 'text', 'Bind DN', true],
        ['bindPassword', 'password', 'Bind password', true],
        ['startTls', 'checkbox', 'Start TLS', false],
        ['timeoutSeconds', 'number', 'Timeout seconds', false],
        ['flavour', 'select', 'Flavour', false],
        ['attributes', 'choices', 'Attributes', false],
        ['objectClasses', 'lines', 'Object classes', false],
        ['ldapTargetId', 'reference', 'LDAP target', true],
        ['serviceId', 'reference', 'Service', true],
        ['ownerGroup', 'reference', 'Owner group', false],
      ],
    );
    assert.equal(byName.url!.hint, 'ldap:// or ldaps://');
    assert.deepEqual(byName.flavour!.options, ['plain', 'fancy']);
    assert.deepEqual(byName.attributes!.options, ['cn', 'sn', 'mail']);
    assert.deepEqual(byName.attributes!.defaultValue, ['cn', 'sn', 'mail']);
    assert.deepEqual([byName.ldapTargetId!.references, byName.serviceId!.references, byName.ownerGroup!.references], ['target', 'service', 'group']);
  });

  it('fills a new form with the defaults, an edit form with the settings, and never a secret', () => {
    const fresh = configFormValues(fields, undefined);
    assert.deepEqual([fresh['config.startTls'], fresh['config.timeoutSeconds'], fresh['config.attributes'], fresh['config.objectClasses'], fresh['config.bindPassword']], [false, 10, ['cn', 'sn', 'mail'], 'inetOrgPerson', '']);
    const edit = configFormValues(fields, { url: 'ldap://x', bindPassword: '(set)', attributes: ['mail'], objectClasses: ['a', 'b'] });
    assert.deepEqual([edit['config.url'], edit['config.bindPassword'], edit['config.attributes'], edit['config.objectClasses'], edit['config.contact']], ['ldap://x', '', ['mail'], 'a\nb', '']);
  });

  it('turns posted fields into settings the schema accepts', () => {
    const posted = {
      'config.url': 'ldap://ldap.example.org',
      'config.contact': '',
      'config.bindDn': 'cn=admin',
      'config.bindPassword': 'pw',
      'config.startTls': 'on',
      'config.timeoutSeconds': '30',
      'config.flavour': '',
      'config.attributes': ['mail', 'cn'],
      'config.objectClasses': 'inetOrgPerson\r\n\r\n  eduPerson \n',
      'config.ldapTargetId': 'target-1',
      'config.serviceId': 'service-1',
      'config.ownerGroup': '',
    };
    const config = configFromForm(fields, posted);
    assert.deepEqual(config, {
      url: 'ldap://ldap.example.org',
      bindDn: 'cn=admin',
      bindPassword: 'pw',
      startTls: true,
      timeoutSeconds: 30,
      attributes: ['mail', 'cn'],
      objectClasses: ['inetOrgPerson', 'eduPerson'],
      ldapTargetId: 'target-1',
      serviceId: 'service-1',
    });
    assert.ok(schema.safeParse(config).success);
    // Unticked boxes post nothing: false and an empty list, not the defaults.
    const unticked = configFromForm(fields, { ...posted, 'config.startTls': undefined, 'config.attributes': undefined, 'config.timeoutSeconds': 'ten' });
    assert.deepEqual([unticked.startTls, unticked.attributes, unticked.timeoutSeconds], [false, [], 'ten']);
    const issues = schema.safeParse(unticked).error?.issues.map((i) => configFieldOf(`config.${i.path.join('.')}`));
    assert.deepEqual(issues, ['config.timeoutSeconds']);
    assert.equal(configFieldOf('config.attributes.2'), 'config.attributes');
    assert.equal(configFieldOf('description'), 'description');
  });

  it('renders each kind of setting as its input, offering the CO’s own objects for references', () => {
    const page: PageContext = { actor: undefined, displayName: undefined, csrfToken: 'csrf', identityMenu: [], flash: undefined, localAccounts: true, unreadNotices: 0 };
    const co = { id: 'co-1', name: 'Astro' } as Co;
    const values = { description: 'x', mode: 'automatic', ordinal: '1', retryIntervalSeconds: '60', maxRetries: '1', ...configFormValues(fields, undefined), 'config.attributes': ['sn'], 'config.ldapTargetId': 't2' };
    const html = render(
      <TargetFormPage
        page={page}
        co={co}
        target={undefined}
        type={{ value: 'fake', label: 'Fake' }}
        fields={fields}
        form={emptyForm(values)}
        groups={[]}
        references={{ target: [{ value: 't1', label: 'One' }, { value: 't2', label: 'Two' }], service: [{ value: 's1', label: 'Mail' }], group: [], choice: {} }}
      />,
    );
    assert.match(html, /<input id="f-config.url" name="config.url" type="url"/);
    assert.match(html, /<input id="f-config.contact" name="config.contact" type="email"/);
    assert.match(html, /<input id="f-config.timeoutSeconds" name="config.timeoutSeconds" type="number" value="10"/);
    assert.match(html, /<input id="f-config.attributes-sn" type="checkbox" name="config.attributes" value="sn" checked/);
    assert.match(html, /<input id="f-config.attributes-cn" type="checkbox" name="config.attributes" value="cn"\/>/);
    assert.match(html, /<textarea id="f-config.objectClasses" name="config.objectClasses"[^>]*>inetOrgPerson<\/textarea>/);
    assert.match(html, /<select id="f-config.ldapTargetId" name="config.ldapTargetId"[^>]*><option value(="")?>Choose…<\/option><option value="t1">One<\/option><option value="t2" selected>Two<\/option><\/select>/);
    assert.match(html, /<select id="f-config.serviceId"[^>]*>.*<option value="s1">Mail<\/option>/);
    assert.match(html, /<select id="f-config.flavour"[^>]*><option value(="")? selected>\(none\)<\/option>/);
  });
});
