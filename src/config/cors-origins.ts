/** The origins `--cors-origin` accepts: checked at start-up, so a typo is a clear error rather than a silent refusal in browsers. */

/** `*`, or a comma-separated list of origins (scheme://host[:port]); refuses anything else */
export function parseCorsOrigins(text: string): string[] {
  const origins = text
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  for (const origin of origins) {
    if (origin === '*') continue;
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      throw new Error(`"${origin}" is not an origin; use scheme://host[:port], e.g. https://app.example.com, or *`);
    }
    if (url.origin !== origin)
      throw new Error(`"${origin}" is not an origin; an origin has no path or trailing slash: ${url.origin}`);
  }
  return origins;
}
