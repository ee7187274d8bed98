/** Sign in with an API key: checked with /v1/whoami, then kept in this tab's session storage only. */
import { useState } from 'preact/hooks';
import { api, session, type KeyInfo } from '../api';

export function SignIn({ reason, onSignedIn }: { reason: string; onSignedIn: (key: KeyInfo) => void }) {
  const [error, setError] = useState(reason);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const key = String(new FormData(e.currentTarget as HTMLFormElement).get('key') ?? '').trim();
    if (!key) return;
    setBusy(true);
    try {
      const who = await api<KeyInfo>('/v1/whoami', { key });
      session.signIn(key);
      onSignedIn(who);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="sign-in">
      <form onSubmit={submit} autocomplete="off">
        <h1>Rivulet</h1>
        <label for="key">API key</label>
        <input id="key" name="key" type="password" required autofocus placeholder="rvk_…" />
        <button type="submit" disabled={busy}>
          Sign in
        </button>
        {error ? (
          <p class="error" role="alert">
            {error}
          </p>
        ) : null}
        <p class="muted small-text">
          The key stays in this browser tab (session storage) and is sent only to this server's API.
        </p>
      </form>
    </main>
  );
}
