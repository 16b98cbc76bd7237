// Loading the benchmark's users into the throwaway slapd: `uid=<user>,ou=people,<suffix>` with the
// token hash Tessera stored as `userPassword`, as the LDAP service token provisioner writes it.
import { Attribute, Change, Client } from 'ldapts';
import type { SlapdInstance } from '../../test/support/slapd.ts';

export function userDn(slapd: SlapdInstance, user: string): string {
  return `uid=${user},ou=people,${slapd.suffix}`;
}

async function withRoot<T>(slapd: SlapdInstance, use: (c: Client) => Promise<T>): Promise<T> {
  const client = new Client({ url: slapd.url, timeout: 30_000 });
  await client.bind(slapd.rootDn, slapd.rootPassword);
  try {
    return await use(client);
  } finally {
    await client.unbind().catch(() => undefined);
  }
}

/** Runs `work` for every item over `connections` root connections in parallel. */
async function eachOver<T>(slapd: SlapdInstance, items: readonly T[], connections: number, work: (c: Client, item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: connections }, () => withRoot(slapd, async (c) => {
    while (next < items.length) await work(c, items[next++]!);
  })));
}

export async function addUsers(slapd: SlapdInstance, users: ReadonlyArray<{ user: string; hash: string }>): Promise<void> {
  await eachOver(slapd, users, 4, (c, u) =>
    c.add(userDn(slapd, u.user), { objectClass: ['top', 'person', 'organizationalPerson', 'inetOrgPerson'], uid: u.user, cn: u.user, sn: 'Bench', userPassword: u.hash }),
  );
}

/** Replaces every user's userPassword (one value: the hash of the scheme under test). */
export async function setPasswords(slapd: SlapdInstance, users: ReadonlyArray<{ user: string; hash: string }>): Promise<void> {
  await eachOver(slapd, users, 4, (c, u) =>
    c.modify(userDn(slapd, u.user), new Change({ operation: 'replace', modification: new Attribute({ type: 'userPassword', values: [u.hash] }) })),
  );
}
