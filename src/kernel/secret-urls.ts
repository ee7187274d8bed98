/**
 * Secrets inside URLs: the password of the userinfo (`https://user:pw@host/`) and the values of
 * query parameters whose names the one secret-name rule calls secret (`?api_key=…`,
 * `&token=…`; see secret-names.ts). Answers and logs show them as `[redacted]`; a URL sent back
 * with the placeholder where a secret was keeps the stored secret, as every other secret does
 * on a change. The URL is treated as text (it may be a template with `{…}` expressions), so
 * everything else stays exactly as written.
 */
import { RivuletError } from './errors.js';
import { REDACTED, isSecretName } from './secret-names.js';

/** the placeholder as it may come back once a client percent-encoded it */
const ENCODED_REDACTED = encodeURIComponent(REDACTED);

interface UrlParts {
  /** `scheme://` (empty for a URL without an authority) */
  head: string;
  user: string | null;
  /** null when the userinfo has no `:` */
  password: string | null;
  /** host, port and path */
  rest: string;
  /** `name=value` pairs of the query (null: no `?`), each as written */
  query: { name: string; value: string | null }[] | null;
  /** `#…` or empty */
  fragment: string;
}

function split(url: string): UrlParts {
  const hash = url.indexOf('#');
  const fragment = hash >= 0 ? url.slice(hash) : '';
  const beforeFragment = hash >= 0 ? url.slice(0, hash) : url;
  const mark = beforeFragment.indexOf('?');
  const base = mark >= 0 ? beforeFragment.slice(0, mark) : beforeFragment;
  const query =
    mark >= 0
      ? beforeFragment
          .slice(mark + 1)
          .split('&')
          .map((pair) => {
            const eq = pair.indexOf('=');
            return eq >= 0 ? { name: pair.slice(0, eq), value: pair.slice(eq + 1) } : { name: pair, value: null };
          })
      : null;
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(base);
  if (!scheme) return { head: '', user: null, password: null, rest: base, query, fragment };
  const afterScheme = base.slice(scheme[0].length);
  const slash = afterScheme.indexOf('/');
  const authority = slash >= 0 ? afterScheme.slice(0, slash) : afterScheme;
  const at = authority.lastIndexOf('@');
  if (at < 0) return { head: scheme[0], user: null, password: null, rest: afterScheme, query, fragment };
  const userinfo = authority.slice(0, at);
  const colon = userinfo.indexOf(':');
  return {
    head: scheme[0],
    user: colon >= 0 ? userinfo.slice(0, colon) : userinfo,
    password: colon >= 0 ? userinfo.slice(colon + 1) : null,
    rest: afterScheme.slice(at + 1),
    query,
    fragment,
  };
}

function join(p: UrlParts): string {
  const userinfo = p.user === null ? '' : `${p.user}${p.password === null ? '' : `:${p.password}`}@`;
  const query =
    p.query === null ? '' : `?${p.query.map((q) => (q.value === null ? q.name : `${q.name}=${q.value}`)).join('&')}`;
  return `${p.head}${userinfo}${p.rest}${query}${p.fragment}`;
}

function decodedName(name: string): string {
  try {
    return decodeURIComponent(name.replaceAll('+', ' '));
  } catch {
    return name;
  }
}

const secretParam = (q: { name: string; value: string | null }) =>
  q.value !== null && q.value !== '' && isSecretName(decodedName(q.name));
const isPlaceholder = (value: string | null) => value === REDACTED || value === ENCODED_REDACTED;

/** the URL with its userinfo password and secret-named query values replaced by `[redacted]` */
export function redactedUrl(url: string): string {
  // the common URL holds neither: answered as it is, unparsed
  if (!url.includes('@') && !url.includes('?')) return url;
  const parts = split(url);
  let changed = false;
  if (parts.password !== null && parts.password !== '') {
    parts.password = REDACTED;
    changed = true;
  }
  for (const q of parts.query ?? []) {
    if (secretParam(q)) {
      q.value = REDACTED;
      changed = true;
    }
  }
  return changed ? join(parts) : url;
}

/** redacts every URL found in a text (an error message, a log line) */
export function redactedUrlsIn(text: string): string {
  // a URL in prose ends before trailing punctuation
  return text.replace(/[A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s"'<>]*[^\s"'<>.,;:!?)\]]/g, (url) => redactedUrl(url));
}

/**
 * A URL given on a save, against the stored one: `[redacted]` as the userinfo password or as a
 * secret-named query value keeps the stored secret (query parameters paired by name and
 * position among those of that name). VALIDATION_FAILED at `pointer` when the stored URL has no
 * secret there to keep. Anything else is the new URL, as given.
 */
export function restoredUrl(given: string, stored: string | null | undefined, pointer: string): string {
  if (!given.includes(REDACTED) && !given.includes(ENCODED_REDACTED)) return given;
  const parts = split(given);
  const kept = stored === null || stored === undefined ? null : split(stored);
  const nothing = (where: string) =>
    new RivuletError(
      'VALIDATION_FAILED',
      `${where} of the URL is "${REDACTED}", the placeholder answers show for a secret, but no secret is stored there to keep; send the secret itself`,
      {
        details: { pointer },
      },
    );
  if (isPlaceholder(parts.password)) {
    if (!kept?.password) throw nothing('the password');
    parts.password = kept.password;
  }
  const seen = new Map<string, number>();
  for (const q of parts.query ?? []) {
    const name = decodedName(q.name);
    const n = seen.get(name) ?? 0;
    seen.set(name, n + 1);
    if (!isPlaceholder(q.value) || !isSecretName(name)) continue;
    const match = (kept?.query ?? []).filter((k) => decodedName(k.name) === name)[n];
    if (match?.value === null || match?.value === undefined || match.value === '')
      throw nothing(`parameter "${name.slice(0, 100)}"`);
    q.value = match.value;
  }
  return join(parts);
}
