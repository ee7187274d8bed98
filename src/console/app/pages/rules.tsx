/**
 * Rules (iFLUX's event-condition-action rules): the list, and one rule with its status,
 * evaluation and action-delivery figures, enable/disable, its conditions and actions, the
 * action deliveries' attempt log and a retry of dead-lettered actions. A rule runs as two
 * sinks, linked from its page.
 */
import { useRef, useState } from 'preact/hooks';
import { api, enc, type Rule } from '../api';
import { AttemptLog } from '../components/attempt-log';
import { ErrorNote } from '../components/error-note';
import { JsonView } from '../components/json-view';
import { RuleDryRun, RuleEditor } from '../components/rule-editor';
import { errorRate } from '../components/sinks-table';
import { count } from '../format';
import { href } from '../router';
import { usePoll } from '../use-poll';
import { Time } from '../components/time';

function RuleStatus({ rule }: { rule: Rule }) {
  // `disabled` reads like a paused sink
  const look = rule.status === 'disabled' ? 'paused' : rule.status;
  return (
    <span class={`status status-${look}`} data-rule-status={rule.status}>
      {rule.status}
    </span>
  );
}

export function RulesPage() {
  const list = usePoll((signal) => api<{ rules: Rule[] }>('/v1/rules?limit=1000', { signal }), [], 3000);
  const [creating, setCreating] = useState(false);
  return (
    <div class="rules-page">
      <div class="toolbar">
        <h2>Rules</h2>
        <button type="button" class="new-rule" onClick={() => setCreating(!creating)} aria-expanded={creating}>
          New rule
        </button>
      </div>
      {creating ? (
        <RuleEditor onSaved={(r) => (location.hash = href('rules', r.id))} onCancel={() => setCreating(false)} />
      ) : null}
      <ErrorNote error={list.error} />
      {!list.data ? (
        list.error ? null : (
          <p class="muted">Loading…</p>
        )
      ) : list.data.rules.length === 0 ? (
        <p class="muted">No rules (or none this key may see).</p>
      ) : (
        <table class="rules">
          <thead>
            <tr>
              <th>rule</th>
              <th>status</th>
              <th>streams</th>
              <th class="num">conditions</th>
              <th class="num">actions</th>
              <th class="num">events evaluated</th>
              <th class="num">actions sent</th>
              <th class="num">action error rate</th>
              <th>updated</th>
            </tr>
          </thead>
          <tbody>
            {list.data.rules.map((r) => (
              <tr key={r.id} data-rule={r.id}>
                <td>
                  <a href={href('rules', r.id)}>{r.name || r.id}</a>
                  {r.description ? <div class="muted small-text">{r.description}</div> : null}
                </td>
                <td>
                  <RuleStatus rule={r} />
                </td>
                <td>{r.streams.join(', ')}</td>
                <td class="num">{r.conditions.length}</td>
                <td class="num">{r.actions.length}</td>
                <td class="num">{count(r.stats.events.delivered)}</td>
                <td class="num">{count(r.stats.actions.delivered)}</td>
                <td class="num">{errorRate(r.stats.actions)}</td>
                <td>
                  <Time iso={r.updatedAt} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

export function RulePage({ id }: { id: string }) {
  const rule = usePoll((signal) => api<Rule>(`/v1/rules/${enc(id)}`, { signal }), [id], 2000);
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState('');
  const [actionError, setActionError] = useState<Error | undefined>(undefined);
  const [editing, setEditing] = useState(false);
  const editorForm = useRef<HTMLFormElement>(null);
  const act = async (path: string, done?: (answer: unknown) => string) => {
    setBusy(true);
    setActionError(undefined);
    try {
      const answer = await api(`/v1/rules/${enc(id)}/${path}`, { method: 'POST' });
      setNote(done ? done(answer) : '');
      rule.reload();
    } catch (err) {
      setActionError(err as Error);
    } finally {
      setBusy(false);
    }
  };
  const r = rule.data;
  return (
    <div class="rule-page">
      <h2>
        <a href="#/rules">Rules</a> / {r?.name || id}
      </h2>
      <ErrorNote error={rule.error} />
      {r ? (
        <>
          {r.description ? <p>{r.description}</p> : null}
          <div class="controls">
            <RuleStatus rule={r} />
            <button type="button" disabled={busy} onClick={() => void act(r.enabled ? 'disable' : 'enable')}>
              {r.enabled ? 'Disable' : 'Enable'}
            </button>
            <button
              type="button"
              disabled={busy || r.stats.actions.deadLettered === 0}
              onClick={() =>
                void act(
                  'dead-letters/retry',
                  (a) => `Retrying dead-lettered actions: ${(a as { jobs: number }).jobs} job(s) started.`,
                )
              }
            >
              Retry dead-lettered actions
            </button>
            <button type="button" class="edit-rule" onClick={() => setEditing(!editing)} aria-expanded={editing}>
              Change
            </button>
          </div>
          {editing ? (
            <RuleEditor
              rule={r}
              formRef={editorForm}
              onSaved={() => {
                setEditing(false);
                setNote('Saved.');
                rule.reload();
              }}
              onCancel={() => setEditing(false)}
            />
          ) : null}
          <RuleDryRun rule={r} draftForm={editing ? editorForm : undefined} />
          {note ? <p class="note">{note}</p> : null}
          <ErrorNote error={actionError} />
          <dl class="figures">
            <dt>id</dt>
            <dd>{r.id}</dd>
            <dt>reads</dt>
            <dd>{r.streams.join(', ')}</dd>
            <dt>events evaluated</dt>
            <dd>
              {count(r.stats.events.delivered)} (lag {count(r.lag.events)}) ·{' '}
              <a href={href('sinks', r.sinks.rule)}>sink {r.sinks.rule}</a>
            </dd>
            <dt>actions sent</dt>
            <dd>
              {count(r.stats.actions.delivered)}, failed attempts {count(r.stats.actions.failed)} (
              {errorRate(r.stats.actions)}), dead-lettered {count(r.stats.actions.deadLettered)} (lag{' '}
              {count(r.lag.actions)}) · <a href={href('sinks', r.sinks.actions)}>sink {r.sinks.actions}</a>
            </dd>
            <dt>last action error</dt>
            <dd class={r.stats.actions.lastError ? 'error' : ''}>
              {r.stats.actions.lastError ? (
                <>
                  <Time iso={r.stats.actions.lastErrorAt} />: {r.stats.actions.lastError}
                </>
              ) : (
                '—'
              )}
            </dd>
            <dt>version</dt>
            <dd>
              {r.version}, updated <Time iso={r.updatedAt} />
            </dd>
          </dl>
          <div class="rule-parts">
            <section>
              <h3>Conditions</h3>
              <div class="json-box">
                <JsonView value={r.conditions} />
              </div>
            </section>
            <section>
              <h3>Actions</h3>
              <div class="json-box">
                <JsonView value={{ actions: r.actions, delivery: r.delivery }} />
              </div>
            </section>
          </div>
          <h3 class="spaced">Action deliveries</h3>
          <AttemptLog sink={r.sinks.actions} path={`/v1/rules/${enc(id)}/attempts`} />
        </>
      ) : rule.error ? null : (
        <p class="muted">Loading…</p>
      )}
    </div>
  );
}
