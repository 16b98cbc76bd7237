/** How far a periodic sweep of time-based transitions has got. */
export interface SweepMarkTable {
  /** The sweep's name, e.g. `membership-windows`. */
  name: string;
  /** ISO timestamp: every transition at or before it has been handled. */
  swept_through: string;
}
