/**
 * Rules: a form that creates a rule (disabled, so it can be tried before it acts) or changes
 * one, and the dry run against a sample event (`POST /v1/rules/{id}/validate`): the
 * conditions it matches and the actions that would be sent, rendered — of the saved rule, or,
 * while a change is being edited, of the change before it is saved.
 */
import type { RefObject } from 'preact';
import { useState } from 'preact/hooks';
import { api, enc, type Rule } from '../api';
import { useAction } from '../use-action';
import { ErrorNote } from './error-note';
import { FieldError } from './field-error';
import { JsonView } from './json-view';
import { FormActions } from './form-actions';

class FormError extends Error {
  constructor(
    message: string,
    readonly pointer: string,
  ) {
    super(message);
  }
}

function json(text: string, pointer: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new FormError(`not JSON: ${(err as Error).message}`, pointer);
  }
}

const NEW_CONDITIONS = '[\n  { "expression": "data.total > 100" }\n]';
const NEW_ACTIONS = '[\n  { "actionTargetId": "", "actionTypeId": "notify" }\n]';

export function RuleEditor({
  rule,
  onSaved,
  onCancel,
  formRef,
}: {
  rule?: Rule;
  onSaved: (r: Rule) => void;
  onCancel?: () => void;
  formRef?: RefObject<HTMLFormElement | null>;
}) {
  const action = useAction();
  const [local, setLocal] = useState<FormError | undefined>(undefined);
  const error = local ?? action.error;
  const submit = async (e: Event) => {
    e.preventDefault();
    const data = new FormData(e.currentTarget as HTMLFormElement);
    const text = (name: string) => String(data.get(name) ?? '').trim();
    let body: Record<string, unknown>;
    try {
      const streams = text('streams')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      body = {
        name: text('name'),
        ...(streams.length > 0 ? { streams } : {}),
        conditions: json(text('conditions'), '/conditions'),
        actions: json(text('actions'), '/actions'),
      };
      setLocal(undefined);
    } catch (err) {
      setLocal(err as FormError);
      return;
    }
    const saved = await action.run(() =>
      rule
        ? api<Rule>(`/v1/rules/${enc(rule.id)}`, { method: 'PATCH', body: { ...body, version: rule.version } })
        : api<Rule>('/v1/rules', {
            method: 'POST',
            body: { ...(text('id') ? { id: text('id') } : {}), ...body, enabled: false },
          }),
    );
    if (saved) onSaved(saved);
  };
  return (
    <form class="panel rule-editor" ref={formRef} onSubmit={submit} aria-label={rule ? 'change rule' : 'new rule'}>
      <h3>{rule ? `Change ${rule.name || rule.id}` : 'New rule (created disabled: try it, then enable it)'}</h3>
      {rule ? null : (
        <>
          <label for="rule-id">id</label>
          <input id="rule-id" name="id" maxLength={64} placeholder="big-orders (blank: a random id)" />
        </>
      )}
      <label for="rule-name">name</label>
      <input id="rule-name" name="name" maxLength={200} defaultValue={rule?.name ?? ''} />
      <label for="rule-streams">streams</label>
      <input
        id="rule-streams"
        name="streams"
        placeholder="the iFLUX stream"
        defaultValue={rule?.streams.join(', ') ?? ''}
      />
      <label for="rule-conditions">conditions</label>
      <div>
        <textarea
          id="rule-conditions"
          name="conditions"
          rows={5}
          spellcheck={false}
          defaultValue={rule ? JSON.stringify(rule.conditions, null, 2) : NEW_CONDITIONS}
        />
        <FieldError error={error} pointer="/conditions" />
      </div>
      <label for="rule-actions">actions</label>
      <div>
        <textarea
          id="rule-actions"
          name="actions"
          rows={5}
          spellcheck={false}
          defaultValue={rule ? JSON.stringify(rule.actions, null, 2) : NEW_ACTIONS}
        />
        <FieldError error={error} pointer="/actions" />
      </div>
      <FormActions busy={action.busy} label={rule ? 'Save' : 'Create rule'} onCancel={onCancel} />
      <div class="result">
        {(error as { pointer?: string } | undefined)?.pointer?.match(/^\/(conditions|actions)/) ? null : (
          <ErrorNote error={error} />
        )}
      </div>
    </form>
  );
}

interface Validation {
  matchedConditions: ({ index: number } & Record<string, unknown>)[];
  matchedActions: { target: string; type: string; properties: unknown; url: string; method: string }[];
}

/** the conditions and actions being edited, as a dry run's draft */
function draftOf(form: HTMLFormElement): { conditions: unknown; actions: unknown } {
  const data = new FormData(form);
  return {
    conditions: json(String(data.get('conditions') ?? ''), '/conditions'),
    actions: json(String(data.get('actions') ?? ''), '/actions'),
  };
}

export function RuleDryRun({
  rule,
  draftForm,
}: {
  rule: Rule;
  draftForm?: RefObject<HTMLFormElement | null> | undefined;
}) {
  const action = useAction();
  const [local, setLocal] = useState<FormError | undefined>(undefined);
  const [answer, setAnswer] = useState<Validation | undefined>(undefined);
  const submit = async (e: Event) => {
    e.preventDefault();
    let body: unknown;
    try {
      const sample = json(String(new FormData(e.currentTarget as HTMLFormElement).get('sample') ?? ''), '/sample');
      const form = draftForm?.current;
      body = form ? { sample, ...draftOf(form) } : sample;
      setLocal(undefined);
    } catch (err) {
      setLocal(err as FormError);
      return;
    }
    setAnswer(undefined);
    const got = await action.run(() => api<Validation>(`/v1/rules/${enc(rule.id)}/validate`, { method: 'POST', body }));
    if (got) setAnswer(got);
  };
  return (
    <form class="panel rule-dry-run" onSubmit={submit} aria-label="dry run">
      <h3>{draftForm ? 'Dry run of the change (not saved yet)' : 'Dry run of the saved rule'}</h3>
      <label for="rule-sample" class="wide">
        a sample event: native <code>{'{type, source?, time?, data}'}</code> or iFLUX{' '}
        <code>{'{timestamp, source, type, properties}'}</code>
      </label>
      <div class="wide">
        <textarea
          id="rule-sample"
          name="sample"
          rows={5}
          spellcheck={false}
          defaultValue={'{\n  "type": "order.placed",\n  "data": { "total": 150 }\n}'}
        />
        {local ? <p class="field-error">{local.message}</p> : null}
      </div>
      <div class="actions">
        <button type="submit" class="rule-dry-run-button" disabled={action.busy}>
          Dry run
        </button>
      </div>
      <div class="result">
        {action.error ? (
          <div class="dry-run" data-matched="false">
            <ErrorNote error={action.error} />
          </div>
        ) : null}
        {answer ? (
          <div class="dry-run" data-matched="true">
            <p class="ok-text">
              Matches condition{answer.matchedConditions.length === 1 ? '' : 's'}{' '}
              {answer.matchedConditions.map((c) => c.index + 1).join(', ')}; would send {answer.matchedActions.length}{' '}
              action
              {answer.matchedActions.length === 1 ? '' : 's'}:
            </p>
            <JsonView value={answer.matchedActions} />
          </div>
        ) : null}
      </div>
    </form>
  );
}
