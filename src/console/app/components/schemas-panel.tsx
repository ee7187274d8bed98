/**
 * A stream's schemas: each event type with its versions and compatibility; a version opens as
 * JSON; a new version is registered after its compatibility report.
 */
import { useState } from 'preact/hooks';
import { api, enc } from '../api';
import { usePoll } from '../use-poll';
import { ErrorNote } from './error-note';
import { JsonView } from './json-view';
import { SchemaRegister } from './schema-register';
import { Time } from './time';

interface TypeSummary {
  type: string;
  compatibility: string;
  compatibilityOverride: string | null;
  latest: number;
  versions: number[];
}

interface SchemaVersion {
  type: string;
  version: number;
  draft: string;
  createdAt: string;
  urn: string;
  schema: unknown;
}

export function SchemasPanel({ stream }: { stream: string }) {
  const types = usePoll(
    (signal) => api<{ types: TypeSummary[] }>(`/v1/streams/${enc(stream)}/schemas`, { signal }),
    [stream],
    0,
  );
  const [open, setOpen] = useState<{ type: string; version: number } | undefined>(undefined);
  const [registering, setRegistering] = useState(false);
  const version = usePoll(
    (signal) =>
      open
        ? api<SchemaVersion>(`/v1/streams/${enc(stream)}/schemas/${enc(open.type)}/versions/${open.version}`, {
            signal,
          })
        : Promise.resolve(undefined),
    [stream, open?.type, open?.version],
    0,
  );
  if (types.error) return <ErrorNote error={types.error} />;
  if (!types.data) return <p class="muted">Loading…</p>;
  const form = registering ? (
    <SchemaRegister
      stream={stream}
      {...(open ? { type: open.type } : {})}
      onRegistered={(type, v) => {
        setRegistering(false);
        types.reload();
        setOpen({ type, version: v });
      }}
    />
  ) : null;
  const toggle = (
    <div class="toolbar">
      <button type="button" class="new-schema" onClick={() => setRegistering(!registering)} aria-expanded={registering}>
        Register a version
      </button>
    </div>
  );
  if (types.data.types.length === 0)
    return (
      <>
        {toggle}
        {form}
        <p class="muted">No schemas registered on this stream.</p>
      </>
    );
  return (
    <>
      {toggle}
      {form}
      <div class="browser-body">
        <table class="schemas">
          <thead>
            <tr>
              <th>event type</th>
              <th>compatibility</th>
              <th>versions</th>
            </tr>
          </thead>
          <tbody>
            {types.data.types.map((t) => (
              <tr key={t.type}>
                <td>
                  <code>{t.type}</code>
                </td>
                <td>
                  {t.compatibility}
                  {t.compatibilityOverride ? ' (set on the type)' : ''}
                </td>
                <td>
                  {t.versions.map((v) => (
                    <button
                      type="button"
                      key={v}
                      class={`small${open?.type === t.type && open.version === v ? ' active' : ''}`}
                      onClick={() => setOpen({ type: t.type, version: v })}
                    >
                      v{v}
                      {v === t.latest ? ' (latest)' : ''}
                    </button>
                  ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {open ? (
          <section class="event-detail">
            <header>
              <h3>
                <code>{open.type}</code> v{open.version}
              </h3>
              <button type="button" class="small" onClick={() => setOpen(undefined)}>
                Close
              </button>
            </header>
            <ErrorNote error={version.error} />
            {version.data ? (
              <>
                <p class="muted">
                  JSON Schema {version.data.draft}, registered <Time iso={version.data.createdAt} />
                  <br />
                  <code>{version.data.urn}</code>
                </p>
                <JsonView value={version.data.schema} />
              </>
            ) : null}
          </section>
        ) : null}
      </div>
    </>
  );
}
