// Realistic data of one COmanage Registry v4 installation for the import tests: non-ASCII names,
// identifiers with DN-special characters, every person status of StatusEnum the issue names
// (A, GP, S, XP, D, P), memberships with past, present and future windows, archived copies and
// deleted rows that must be ignored, legacy service tokens and cm_passwords rows.
import { hashSecret } from '../../plugins/service-tokens/hashing/password-schemes.ts';
import { comanageSsha, PHP_MANUAL_BCRYPT, type ComanageDb } from './comanage-fixture.test-support.ts';

/** The facts of the seeded installation the tests check against. */
export const SEED = {
  co: { id: 1, name: 'Astronomy Collaboration' },
  otherCo: { id: 2, name: 'Ünïcode Ørg' },
  /** Plaintext legacy tokens (CoServiceToken stored them so). */
  adaWikiToken: 'AdaWikiToken015',
  zoeMailToken: 'Zoe8Mail',
  adaSshaPassword: 'ada-ssha-password',
  adaCryptPassword: 'ada-crypt-password',
  zoeBcrypt: PHP_MANUAL_BCRYPT,
  baseDn: 'ou=people,dc=example,dc=org',
} as const;

const T0 = '2024-01-15 10:00:00';
const PAST = { from: '2023-01-01 00:00:00', through: '2024-01-01 00:00:00' };
const FUTURE = { from: '2099-01-01 00:00:00', through: null };

/** Fills an empty COmanage schema (createComanageSchema) with the installation above. */
export async function seedComanage(db: ComanageDb): Promise<void> {
  const ch = { created: T0, modified: T0, revision: 0, deleted: false, actor_identifier: 'admin' };
  await db.insert('cm_cos', [
    { id: 1, name: SEED.co.name, description: 'Telescopes and data', status: 'A', created: T0, modified: T0 },
    { id: 2, name: SEED.otherCo.name, description: 'Another CO', status: 'A', created: T0, modified: T0 },
  ]);
  await db.insert('cm_co_people', [
    { id: 10, co_id: 1, status: 'A', ...ch },
    { id: 11, co_id: 1, status: 'GP', ...ch },
    { id: 12, co_id: 1, status: 'S', ...ch },
    { id: 13, co_id: 1, status: 'XP', ...ch },
    { id: 14, co_id: 1, status: 'D', ...ch },
    { id: 15, co_id: 1, status: 'P', ...ch },
    { id: 16, co_id: 1, status: 'A', ...ch, deleted: true },
    { id: 17, co_id: 1, status: 'S', ...ch, co_person_id: 10, revision: 1 },
    { id: 18, co_id: 1, status: 'ZZ', ...ch },
    { id: 20, co_id: 2, status: 'A', ...ch },
  ]);
  const name = (id: number, person: number, given: string, family: string | null, extra: Record<string, unknown> = {}) => ({ id, co_person_id: person, given, family, type: 'official', primary_name: true, ...ch, ...extra });
  await db.insert('cm_names', [
    name(100, 10, 'Ada', 'Lovelace'),
    name(101, 10, 'Old Ada', 'Byron', { name_id: 100 }),
    name(102, 10, 'Deleted', 'Name', { deleted: true }),
    name(103, 11, 'Zoë', 'Ærøskøbing-Łukasiewicz'),
    name(104, 12, 'Bob', "O'Brien"),
    name(105, 13, 'Carol', 'Çelik'),
    name(106, 14, 'Dan', 'Đorđević'),
    name(107, 15, 'Eve', '李'),
    name(108, 15, '', 'Nameless'),
    name(109, 20, 'Other', 'Person'),
  ]);
  const ident = (id: number, person: number, identifier: string, type: string, extra: Record<string, unknown> = {}) => ({ id, co_person_id: person, identifier, type, login: type === 'uid', status: 'A', ...ch, ...extra });
  await db.insert('cm_identifiers', [
    ident(200, 10, 'ada', 'uid'),
    ident(201, 10, 'ada@example.org', 'eppn'),
    ident(202, 10, 'ada-old', 'uid', { identifier_id: 200 }),
    ident(203, 11, 'zoë', 'uid'),
    ident(204, 12, 'bob,admin+x', 'uid'),
    ident(205, 12, 'B-1234', 'badge'),
    ident(206, 13, 'carol', 'uid'),
    ident(207, 14, 'dan', 'uid', { status: 'S' }),
    ident(208, 15, 'eve', 'uid'),
    ident(209, 15, 'ADA', 'uid'),
    ident(210, 15, 'deleted-eve', 'uid', { deleted: true }),
    ident(211, 20, 'other', 'uid'),
  ]);
  const mail = (id: number, person: number, address: string, extra: Record<string, unknown> = {}) => ({ id, co_person_id: person, mail: address, type: 'official', verified: true, ...ch, ...extra });
  await db.insert('cm_email_addresses', [
    mail(300, 10, 'ada@example.org'),
    mail(301, 10, 'ada.old@example.org', { email_address_id: 300 }),
    mail(302, 11, 'zoë@exämple.org'),
    mail(303, 12, 'not an address'),
  ]);
  const group = (id: number, groupName: string, type: string, extra: Record<string, unknown> = {}) => ({ id, co_id: 1, name: groupName, description: groupName, status: 'A', group_type: type, open: false, auto: type !== 'S', ...ch, ...extra });
  await db.insert('cm_co_groups', [
    group(400, 'CO:admins', 'A'),
    group(401, 'CO:members:active', 'MA'),
    group(402, 'CO:members:all', 'M'),
    group(403, 'astro-wiki', 'S'),
    group(404, 'astro-wiki-old', 'S', { co_group_id: 403 }),
    group(405, 'gone-group', 'S', { deleted: true }),
    group(406, 'CO:COU:Optics:members:active', 'MA', { cou_id: 7 }),
    { ...group(407, 'other-co-group', 'S'), co_id: 2 },
  ]);
  const member = (id: number, g: number, person: number, window: { from: string | null; through: string | null } = { from: null, through: null }, extra: Record<string, unknown> = {}) => ({ id, co_group_id: g, co_person_id: person, member: true, owner: false, valid_from: window.from, valid_through: window.through, ...ch, ...extra });
  await db.insert('cm_co_group_members', [
    member(500, 400, 10),
    member(501, 401, 10),
    member(502, 403, 10, PAST),
    member(503, 403, 11, { from: '2024-01-01 00:00:00', through: '2099-12-31 23:59:59' }),
    member(504, 403, 12, FUTURE),
    member(505, 403, 13, { from: null, through: null }, { co_group_member_id: 503 }),
    member(506, 403, 14, { from: null, through: null }, { deleted: true }),
    member(507, 406, 11),
  ]);
  const service = (id: number, serviceName: string, label: string | null, extra: Record<string, unknown> = {}) => ({ id, co_id: 1, name: serviceName, description: serviceName, short_label: label, visibility: 'CP', identifier_type: 'uid', status: 'A', ...ch, ...extra });
  await db.insert('cm_co_services', [
    service(600, 'Wiki', 'wiki', { co_group_id: 403, visibility: 'CG' }),
    service(601, 'Mail', 'mail'),
    service(602, 'Git Lab!', null, { visibility: 'CA' }),
    service(603, 'Wiki (old)', 'wikiold', { co_service_id: 600 }),
    service(604, 'Accounts', 'accounts', { visibility: 'P', authenticator_id: 1 }),
  ]);
  // PasswordAuthenticator "Accounts password" (authenticator 1), which the Accounts service uses.
  await db.insert('cm_authenticators', [{ id: 1, co_id: 1, description: 'Accounts password', plugin: 'PasswordAuthenticator', status: 'A', created: T0, modified: T0 }]);
  await db.insert('cm_password_authenticators', [{ id: 1, authenticator_id: 1, password_source: 'SL', min_length: 8, max_length: 64, format_crypt_php: true, format_plaintext: true, format_sha1_ldap: true, created: T0, modified: T0 }]);
  await db.insert('cm_history_records', [
    { id: 700, co_person_id: 10, actor_co_person_id: 10, action: 'pCPA', comment: 'CO Person added', ...ch },
    { id: 701, co_person_id: 10, co_group_id: 403, action: 'ACGM', comment: 'Added to group astro-wiki', ...ch },
    { id: 702, co_person_id: 10, action: 'pCPE', comment: 'archived copy', ...ch, history_record_id: 700 },
  ]);
  await db.insert('cm_co_service_token_settings', [
    { id: 800, co_service_id: 600, enabled: true, token_type: '15', created: T0, modified: T0 },
    { id: 801, co_service_id: 601, enabled: true, token_type: '08', created: T0, modified: T0 },
  ]);
  await db.insert('cm_co_service_tokens', [
    { id: 900, co_service_id: 600, co_person_id: 10, token: SEED.adaWikiToken, token_type: '15', created: T0, modified: T0 },
    { id: 901, co_service_id: 601, co_person_id: 11, token: SEED.zoeMailToken, token_type: '08', created: T0, modified: T0 },
    { id: 902, co_service_id: 600, co_person_id: 12, token: 'bad-token!', token_type: '15', created: T0, modified: T0 },
  ]);
  const sha512crypt = (await hashSecret(SEED.adaCryptPassword, 'CRYPT-SHA512')).slice('{CRYPT}'.length);
  await db.insert('cm_passwords', [
    { id: 1000, password_authenticator_id: 1, co_person_id: 10, password: comanageSsha(SEED.adaSshaPassword), password_type: 'SH', ...ch },
    { id: 1001, password_authenticator_id: 1, co_person_id: 10, password: sha512crypt, password_type: 'CR', ...ch },
    { id: 1002, password_authenticator_id: 1, co_person_id: 11, password: SEED.zoeBcrypt.hash, password_type: 'CR', ...ch },
    { id: 1003, password_authenticator_id: 1, co_person_id: 11, password: 'plaintext-pw', password_type: 'NO', ...ch },
    { id: 1004, password_authenticator_id: 1, co_person_id: 10, password: comanageSsha('old-password'), password_type: 'SH', ...ch, password_id: 1000 },
  ]);
  await db.insert('cm_co_provisioning_targets', [{ id: 1100, co_id: 1, description: 'Directory', plugin: 'LdapProvisioner', status: 'A', retry_interval: 900, max_retry: 3, ordr: 1, created: T0, modified: T0 }]);
  await db.insert('cm_co_ldap_provisioner_targets', [{ id: 1110, co_provisioning_target_id: 1100, serverurl: 'ldap://ldap.example.org', binddn: 'cn=admin,dc=example,dc=org', password: 'plaintext-bind-password', basedn: SEED.baseDn, dn_attribute_name: 'uid', dn_identifier_type: 'uid', created: T0, modified: T0 }]);
  await db.insert('cm_co_ldap_provisioner_dns', [
    { id: 1200, co_ldap_provisioner_target_id: 1110, co_person_id: 10, dn: `uid=ada,${SEED.baseDn}`, created: T0, modified: T0 },
    // COmanage wrote DN values unescaped: this is not a valid DN for Bob's uid "bob,admin+x".
    { id: 1201, co_ldap_provisioner_target_id: 1110, co_person_id: 12, dn: `uid=bob,admin+x,${SEED.baseDn}`, created: T0, modified: T0 },
    { id: 1202, co_ldap_provisioner_target_id: 1110, co_person_id: 11, dn: `uid=zoë,${SEED.baseDn}`, created: T0, modified: T0 },
  ]);
}
