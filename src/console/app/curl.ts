/**
 * "Copy as curl": the same request from a shell. The key stays a variable ($RIVULET_KEY),
 * so a pasted command never carries the secret.
 */
function quote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

export function curlGet(path: string): string {
  return `curl -sS -H "Authorization: Bearer $RIVULET_KEY" ${quote(location.origin + path)}`;
}
