import type { ComponentChildren } from 'preact';
import { EmptyState } from './components.views.tsx';

/** One column of a {@link DataTable}: its header and how a row fills its cell. */
export interface Column<T> {
  /** The header cell's content. */
  label: ComponentChildren;
  /** Class of the header and of every cell of the column, e.g. `hide-narrow` (hidden on small screens). */
  class?: string;
  /** Class of one cell when it depends on the row (e.g. `muted`); wins over `class`. */
  cellClass?: (row: T) => string | undefined;
  cell: (row: T) => ComponentChildren;
}

/** A column of buttons (remove, suspend…): its header is read by screen readers only. */
export function actionsColumn<T>(cell: (row: T) => ComponentChildren): Column<T> {
  return { label: <span class="visually-hidden">Actions</span>, cell };
}

/**
 * The registry's table: scrollable on small screens, one header row, one row per item. A column
 * given as `false` is left out (e.g. the actions column for someone who may not act). With
 * `empty`, no rows show that message instead of an empty table.
 */
export function DataTable<T>(props: { rows: readonly T[]; columns: ReadonlyArray<Column<T> | false>; class?: string; empty?: ComponentChildren }) {
  if (props.rows.length === 0 && props.empty !== undefined) return <EmptyState>{props.empty}</EmptyState>;
  const columns = props.columns.filter((c): c is Column<T> => c !== false);
  return (
    <div class="table-wrap">
      <table class={props.class}>
        <thead>
          <tr>
            {columns.map((c) => (
              <th scope="col" class={c.class}>
                {c.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.rows.map((row) => (
            <tr>
              {columns.map((c) => (
                <td class={c.cellClass?.(row) ?? c.class}>{c.cell(row)}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
