/**
 * `value` with its last character replaced by another one, so the result always differs from it
 * (replacing it by a fixed character keeps the value when it already ends in that character).
 */
export function withLastCharacterChanged(value: string): string {
  return `${value.slice(0, -1)}${value.endsWith('x') ? 'y' : 'x'}`;
}
