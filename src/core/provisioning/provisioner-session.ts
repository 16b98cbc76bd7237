import type { ProvisionerSession } from './provisioner.ts';

/**
 * The connections provisioners open during one worker pass, by key: opened on first use, shared by
 * the people of the pass, closed together at its end.
 */
export class PassSession implements ProvisionerSession {
  private readonly open = new Map<string, { value: Promise<unknown>; close: (v: unknown) => Promise<void> }>();

  /** The value kept under `key`, opened with `open` on first use; `close` releases it at the end of the pass. */
  get<T>(key: string, open: () => Promise<T>, close: (value: T) => Promise<void>): Promise<T> {
    let entry = this.open.get(key);
    if (!entry) {
      const value = open();
      // A failed open is not kept: the next person of the pass tries again.
      value.catch(() => this.open.delete(key));
      entry = { value, close: close as (v: unknown) => Promise<void> };
      this.open.set(key, entry);
    }
    return entry.value as Promise<T>;
  }

  /** Closes every value opened, ignoring errors (the connection is gone either way). */
  async closeAll(): Promise<void> {
    for (const { value, close } of this.open.values()) {
      try {
        await close(await value);
      } catch {
        // The connection is gone either way.
      }
    }
    this.open.clear();
  }
}
