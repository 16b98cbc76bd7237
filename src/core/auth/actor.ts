/**
 * Who is acting. Every service function takes one, checks it may do what it asks, and records it
 * in history.
 */
export type Actor =
  | {
      kind: 'person';
      username: string;
      label: string;
      /** The person the username maps to, per CO id. */
      personIds: Record<string, string>;
      platformAdmin: boolean;
      /** Ids of the COs whose admins group holds this person now. */
      adminOf: ReadonlySet<string>;
    }
  | {
      kind: 'api';
      apiUserId: string;
      label: string;
      coId: string;
      /** An API user of the platform CO reaches every CO. */
      platform: boolean;
      privileged: boolean;
    }
  | { kind: 'system'; label: string };

export const SYSTEM_ACTOR: Actor = { kind: 'system', label: 'system' };

/** May the actor administer the CO (people, groups, services, settings)? */
export function isCoAdmin(actor: Actor, coId: string): boolean {
  switch (actor.kind) {
    case 'system':
      return true;
    case 'person':
      return actor.platformAdmin || actor.adminOf.has(coId);
    case 'api':
      return actor.privileged && (actor.platform || actor.coId === coId);
  }
}

/** May the actor read the CO's registry data? API users read their CO even when unprivileged. */
export function canReadCo(actor: Actor, coId: string): boolean {
  if (actor.kind === 'api') return actor.platform || actor.coId === coId;
  return isCoAdmin(actor, coId);
}

export function isPlatformAdmin(actor: Actor): boolean {
  if (actor.kind === 'system') return true;
  if (actor.kind === 'person') return actor.platformAdmin;
  return actor.platform && actor.privileged;
}

/** The person the actor is in this CO, if any. */
export function personIdOf(actor: Actor, coId: string): string | undefined {
  return actor.kind === 'person' ? actor.personIds[coId] : undefined;
}
