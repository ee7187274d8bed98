/** The exclusive upper bound of the keys that start with `prefix`, for range scans. */
export function prefixUpperBound(prefix: string): string {
  if (prefix === '') return '\u{10FFFF}';
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}
