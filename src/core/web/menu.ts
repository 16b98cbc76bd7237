import type { Actor } from '../auth/actor.ts';
import type { Co } from '../cos/co.service.ts';
import type { Person } from '../people/person.repository.ts';

export interface MenuEntry {
  label: string;
  href: string;
  /** A line saying what is behind the entry, where the menu has room for one (the CO dashboard). */
  description?: string;
}

/** Menu entries plugins add to the core's pages; each returns [] where it has nothing to add. */
export interface MenuContributions {
  /** Under the signed-in person's name, once per CO they are a person in. */
  identity?: (input: { co: Co; personId: string; actor: Actor }) => MenuEntry[];
  /** On the CO dashboard's configuration menu, for CO admins. */
  coConfiguration?: (input: { co: Co; actor: Actor }) => MenuEntry[];
  /** On a CO Person page, for admins and for the person. */
  personPage?: (input: { co: Co; person: Person; actor: Actor }) => MenuEntry[];
}

/** Every enabled plugin's menu entries, in plugin order. */
export class Menus {
  constructor(private readonly contributions: readonly MenuContributions[]) {}
  identity(input: { co: Co; personId: string; actor: Actor }): MenuEntry[] {
    return this.contributions.flatMap((c) => c.identity?.(input) ?? []);
  }
  coConfiguration(input: { co: Co; actor: Actor }): MenuEntry[] {
    return this.contributions.flatMap((c) => c.coConfiguration?.(input) ?? []);
  }
  personPage(input: { co: Co; person: Person; actor: Actor }): MenuEntry[] {
    return this.contributions.flatMap((c) => c.personPage?.(input) ?? []);
  }
}
