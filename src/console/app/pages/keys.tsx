/**
 * API keys (admin): the list, a new key with its scopes (its secret shown once, with a copy
 * button, and never again), and revoking a key after a confirmation.
 */
import { Fragment } from 'preact';
import { useState } from 'preact/hooks';
import { api, enc, type KeyInfo } from '../api';
import { ConfirmDialog } from '../components/confirm-dialog';
import { CopyBox } from '../components/copy-box';
import { ErrorNote } from '../components/error-note';
import { FieldError } from '../components/field-error';
import { Time } from '../components/time';
import { useAction } from '../use-action';
import { usePoll } from '../use-poll';

const ACTIONS = ['produce', 'consume', 'manage'] as const;

function NewKey({ onCreated }: { onCreated: (key: KeyInfo, secret: string) => void }) {
  const action = useAction();
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    const text = (name: string) => String(data.get(name) ?? '').trim();
    const scopes = [
      ...(data.get('admin') ? ['admin'] : []),
      ...ACTIONS.flatMap((a) =>
        text(a)
          .split(',')
          .map((p) => p.trim())
          .filter(Boolean)
          .map((p) => `${a}:${p}`),
      ),
    ];
    const answer = await action.run(() =>
      api<{ key: KeyInfo; secret: string }>('/v1/keys', {
        method: 'POST',
        body: { name: text('name'), owner: text('owner'), scopes },
      }),
    );
    if (answer) {
      form.reset();
      onCreated(answer.key, answer.secret);
    }
  };
  return (
    <form class="panel new-key" onSubmit={submit} aria-label="new key">
      <h3>New key</h3>
      <label for="key-name">name</label>
      <input id="key-name" name="name" maxLength={200} placeholder="billing service" />
      <label for="key-owner">owner</label>
      <div>
        <input id="key-owner" name="owner" required maxLength={200} placeholder="shop" />
        <FieldError error={action.error} pointer="/owner" />
      </div>
      {ACTIONS.map((a) => (
        <Fragment key={a}>
          <label for={`key-${a}`}>{a}</label>
          <input id={`key-${a}`} name={a} placeholder="stream patterns, e.g. orders, orders.*" />
        </Fragment>
      ))}
      <label for="key-admin">admin</label>
      <label class="muted">
        <input id="key-admin" name="admin" type="checkbox" /> everything, on every owner's streams
      </label>
      <div class="actions">
        <button type="submit" disabled={action.busy}>
          Create key
        </button>
      </div>
      <div class="result">
        <FieldError error={action.error} pointer="/scopes" />
        <ErrorNote
          error={
            (action.error as { pointer?: string } | undefined)?.pointer?.startsWith('/scopes') ||
            (action.error as { pointer?: string } | undefined)?.pointer === '/owner'
              ? undefined
              : action.error
          }
        />
      </div>
    </form>
  );
}

export function KeysPage() {
  const list = usePoll((signal) => api<{ keys: KeyInfo[] }>('/v1/keys', { signal }), [], 5000);
  const [created, setCreated] = useState<{ key: KeyInfo; secret: string } | undefined>(undefined);
  const [revoking, setRevoking] = useState<KeyInfo | undefined>(undefined);
  const action = useAction();
  const revoke = async (key: KeyInfo) => {
    const done = await action.run(async () => {
      await api(`/v1/keys/${enc(key.id)}`, { method: 'DELETE' });
      return true;
    });
    if (done) {
      setRevoking(undefined);
      if (created?.key.id === key.id) setCreated(undefined);
      list.reload();
    }
  };
  return (
    <div class="keys-page">
      <h2>Keys</h2>
      <NewKey
        onCreated={(key, secret) => {
          setCreated({ key, secret });
          list.reload();
        }}
      />
      {created ? (
        <div class="secret-once" data-key={created.key.id}>
          <p class="note">
            The secret of <strong>{created.key.name || created.key.id}</strong>, shown this once: it is not stored
            readable and cannot be shown again.
          </p>
          <CopyBox label="secret" text={created.secret} />
          <button type="button" class="small" onClick={() => setCreated(undefined)}>
            Done, hide it
          </button>
        </div>
      ) : null}
      <ErrorNote error={list.error ?? action.error} />
      {list.data ? (
        <table class="keys">
          <thead>
            <tr>
              <th>key</th>
              <th>owner</th>
              <th>scopes</th>
              <th>created</th>
              <th>expires</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {list.data.keys.map((k) => (
              <tr key={k.id} data-key-id={k.id} data-key-name={k.name}>
                <td>
                  {k.name || <span class="muted">unnamed</span>}
                  <div class="muted small-text id">{k.id}</div>
                </td>
                <td>{k.owner}</td>
                <td class="small-text">{k.scopes.join(' ')}</td>
                <td>
                  <Time iso={k.createdAt ?? null} />
                </td>
                <td>{k.expiresAt ? <Time iso={k.expiresAt} /> : <span class="muted">never</span>}</td>
                <td>
                  <button type="button" class="small danger revoke" onClick={() => setRevoking(k)}>
                    Revoke
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : list.error ? null : (
        <p class="muted">Loading…</p>
      )}
      {revoking ? (
        <ConfirmDialog
          title={`Revoke ${revoking.name || revoking.id}?`}
          confirmLabel="Revoke"
          busy={action.busy}
          onConfirm={() => void revoke(revoking)}
          onCancel={() => setRevoking(undefined)}
        >
          <p>
            Requests with this key are refused from now on ({revoking.owner}: {revoking.scopes.join(' ')}). What it made
            (streams, sinks, rules) stays.
          </p>
        </ConfirmDialog>
      ) : null}
    </div>
  );
}
