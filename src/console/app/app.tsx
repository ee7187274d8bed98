/** The shell: sign-in until a key works, then the header and the page the hash names. */
import { useEffect, useState } from 'preact/hooks';
import { api, session, type KeyInfo } from './api';
import { SignIn } from './pages/sign-in';
import { resolve, routes } from './routes';
import { useHashPath } from './router';

export function App() {
  const [who, setWho] = useState<KeyInfo | null>(null);
  const [checking, setChecking] = useState(session.key() !== null);
  const [reason, setReason] = useState('');
  const path = useHashPath();

  useEffect(() => {
    const onSignedOut = (e: Event) => {
      setWho(null);
      setReason((e as CustomEvent<string>).detail);
    };
    window.addEventListener('rivulet:signed-out', onSignedOut);
    if (session.key()) {
      api<KeyInfo>('/v1/whoami')
        .then(setWho)
        .catch(() => undefined)
        .finally(() => setChecking(false));
    }
    return () => window.removeEventListener('rivulet:signed-out', onSignedOut);
  }, []);

  const found = resolve(path);
  useEffect(() => {
    document.title = found && who ? `${found.route.title(found.params)} · Rivulet` : 'Rivulet console';
  }, [path, who]);

  if (checking) return <p class="muted">Loading…</p>;
  if (!who) return <SignIn reason={reason} onSignedIn={setWho} />;
  return (
    <>
      <header class="top">
        <a class="brand" href="#/">
          Rivulet
        </a>
        <nav>
          {routes
            .filter((r) => r.nav && (!r.admin || who.scopes.includes('admin')))
            .map((r) => (
              <a key={r.pattern} href={`#${r.pattern}`} class={found?.route === r ? 'active' : ''}>
                {r.nav}
              </a>
            ))}
        </nav>
        <span class="who" title={who.scopes.join(' ')}>
          {who.owner} · {who.name || who.id}
        </span>
        <button type="button" class="small" onClick={() => session.signOut()}>
          Sign out
        </button>
      </header>
      <main>{found ? found.route.render(found.params) : <p class="error">No page at {path}.</p>}</main>
    </>
  );
}
