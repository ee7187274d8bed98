/**
 * Register a schema version: the compatibility report (`POST …/schemas/{type}/compatibility`)
 * is shown first, and **Register** is offered only for the text that was checked and found
 * compatible.
 */
import { useState } from 'preact/hooks';
import { api, enc } from '../api';
import { useAction } from '../use-action';
import { ErrorNote } from './error-note';

interface Incompatibility {
  direction: string;
  againstVersion: number;
  pointer: string;
  rule: string;
  message: string;
}

interface Report {
  type: string;
  mode: string;
  compatible: boolean;
  unchanged: boolean;
  latest: number | null;
  nextVersion: number;
  incompatibilities: Incompatibility[];
}

const MODES = [
  '',
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
  'NONE',
];

export function SchemaRegister({
  stream,
  type: initialType,
  onRegistered,
}: {
  stream: string;
  type?: string;
  onRegistered: (type: string, version: number) => void;
}) {
  const action = useAction();
  const [report, setReport] = useState<{ key: string; report: Report } | undefined>(undefined);
  const [parseError, setParseError] = useState('');

  const read = (form: HTMLFormElement) => {
    const data = new FormData(form);
    const type = String(data.get('type') ?? '').trim();
    const text = String(data.get('schema') ?? '');
    const mode = String(data.get('mode') ?? '');
    let schema: unknown;
    try {
      schema = JSON.parse(text);
      setParseError('');
    } catch (err) {
      setParseError(`Not JSON: ${(err as Error).message}`);
      return undefined;
    }
    return { type, key: `${type}\n${mode}\n${text}`, body: mode ? { schema, compatibility: mode } : schema };
  };

  const check = async (e: Event) => {
    e.preventDefault();
    const given = read(e.currentTarget as HTMLFormElement);
    if (!given) return;
    setReport(undefined);
    const answer = await action.run(() =>
      api<Report>(`/v1/streams/${enc(stream)}/schemas/${enc(given.type)}/compatibility`, {
        method: 'POST',
        body: given.body,
      }),
    );
    if (answer) setReport({ key: given.key, report: answer });
  };

  const register = async (e: Event) => {
    const given = read((e.currentTarget as HTMLButtonElement).form!);
    if (!given || given.key !== report?.key) return;
    const answer = await action.run(() =>
      api<{ version: number }>(`/v1/streams/${enc(stream)}/schemas/${enc(given.type)}`, {
        method: 'POST',
        body: given.body,
      }),
    );
    if (answer) onRegistered(given.type, answer.version);
  };

  const r = report?.report;
  return (
    <form
      class="panel schema-register"
      onSubmit={check}
      onInput={() => setReport(undefined)}
      aria-label="register a schema version"
    >
      <h3>Register a schema version</h3>
      <label for="schema-type">event type</label>
      <input
        id="schema-type"
        name="type"
        required
        maxLength={256}
        defaultValue={initialType ?? ''}
        placeholder="order.placed"
      />
      <label for="schema-mode">compatibility</label>
      <select id="schema-mode" name="mode">
        {MODES.map((m) => (
          <option key={m} value={m}>
            {m || "the type's current mode"}
          </option>
        ))}
      </select>
      <label for="schema-text" class="wide">
        JSON Schema
      </label>
      <div class="wide">
        <textarea
          id="schema-text"
          name="schema"
          rows={10}
          spellcheck={false}
          class={parseError ? 'invalid' : ''}
          defaultValue={'{\n  "type": "object",\n  "properties": {}\n}'}
        />
        {parseError ? <p class="field-error">{parseError}</p> : null}
      </div>
      <div class="actions">
        <button type="submit" class="check-compatibility" disabled={action.busy}>
          Check compatibility
        </button>
        <button
          type="button"
          class="register-schema"
          disabled={action.busy || !r || !r.compatible}
          onClick={(e) => void register(e)}
        >
          {r?.unchanged ? `Register (same as v${r.latest})` : r ? `Register as v${r.nextVersion}` : 'Register'}
        </button>
      </div>
      {r ? (
        <div class="result dry-run" data-compatible={String(r.compatible)}>
          {r.compatible ? (
            <p class="ok-text">
              {r.unchanged
                ? `The latest version (v${r.latest}) already has this schema.`
                : r.latest === null
                  ? `The first version of ${r.type}: nothing to be compatible with.`
                  : `Compatible under ${r.mode} with ${r.mode.endsWith('TRANSITIVE') ? 'every version' : `v${r.latest}`}: registers as v${r.nextVersion}.`}
            </p>
          ) : (
            <>
              <p class="error">
                Breaks {r.mode} compatibility ({r.incompatibilities.length} finding
                {r.incompatibilities.length === 1 ? '' : 's'}); it would be refused:
              </p>
              <table class="incompatibilities">
                <thead>
                  <tr>
                    <th>against</th>
                    <th>direction</th>
                    <th>where</th>
                    <th>rule</th>
                    <th>why</th>
                  </tr>
                </thead>
                <tbody>
                  {r.incompatibilities.map((i, n) => (
                    <tr key={n} data-rule={i.rule}>
                      <td>v{i.againstVersion}</td>
                      <td>{i.direction}</td>
                      <td>
                        <code>{i.pointer || '(root)'}</code>
                      </td>
                      <td>{i.rule}</td>
                      <td>{i.message}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )}
        </div>
      ) : null}
      <div class="result">
        <ErrorNote error={action.error} />
      </div>
    </form>
  );
}
