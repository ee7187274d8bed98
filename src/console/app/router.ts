/**
 * Hash routing (#/streams/orders/live): the server serves one document, and a page's address
 * never reaches the server or its logs.
 */
import { useEffect, useState } from 'preact/hooks';

export type Params = Record<string, string>;

/** `/streams/:name/:tab?` → a matcher of paths to params */
export function compile(pattern: string): (path: string) => Params | null {
  const names: string[] = [];
  const source = pattern
    .split('/')
    .map((part) => {
      if (!part.startsWith(':')) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      const optional = part.endsWith('?');
      names.push(part.slice(1, optional ? -1 : undefined));
      return optional ? '?([^/]*)' : '([^/]+)';
    })
    .join('/');
  const re = new RegExp(`^${source}/?$`);
  return (path) => {
    const m = re.exec(path);
    if (!m) return null;
    const params: Params = {};
    names.forEach((name, i) => {
      const value = m[i + 1];
      if (value) params[name] = decodeURIComponent(value);
    });
    return params;
  };
}

export function currentPath(): string {
  return location.hash.replace(/^#/, '') || '/';
}

export function useHashPath(): string {
  const [path, setPath] = useState(currentPath);
  useEffect(() => {
    const onChange = () => setPath(currentPath());
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return path;
}

/** `#/streams/a%2Fb` for link hrefs */
export function href(...parts: string[]): string {
  return `#/${parts.map(encodeURIComponent).join('/')}`;
}
