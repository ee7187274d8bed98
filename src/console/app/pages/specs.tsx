/**
 * Specs: the datasets, and one dataset's revision history; a revision shows its pipelines with
 * their states, dependencies, errors and stats, its log and the spec itself.
 */
import { api, enc, type Dataset, type Revision, type RevisionSummary } from '../api';
import { ErrorNote } from '../components/error-note';
import { JsonView } from '../components/json-view';
import { PipelineState } from '../components/pipeline-state';
import { bytes, count } from '../format';
import { href } from '../router';
import { usePoll } from '../use-poll';
import { Time } from '../components/time';

export function SpecsPage() {
  const list = usePoll((signal) => api<{ datasets: Dataset[] }>('/v1/specs', { signal }), [], 5000);
  return (
    <div class="specs-page">
      <h2>Specs</h2>
      <ErrorNote error={list.error} />
      {!list.data ? (
        list.error ? null : (
          <p class="muted">Loading…</p>
        )
      ) : list.data.datasets.length === 0 ? (
        <p class="muted">No specs uploaded (or none of this key's owner).</p>
      ) : (
        <table class="datasets">
          <thead>
            <tr>
              <th>dataset</th>
              <th>owner</th>
              <th class="num">latest revision</th>
              <th>manages</th>
              <th>updated</th>
            </tr>
          </thead>
          <tbody>
            {list.data.datasets.map((d) => (
              <tr key={`${d.owner}/${d.dataset}`} data-dataset={`${d.owner}/${d.dataset}`}>
                <td>
                  <a href={href('specs', d.owner, d.dataset)}>{d.dataset}</a>
                </td>
                <td>{d.owner}</td>
                <td class="num">{d.latest}</td>
                <td class="small-text">
                  {d.managed.length > 0 ? d.managed.join(', ') : <span class="muted">nothing</span>}
                </td>
                <td>
                  <Time iso={d.updatedAt} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function RevisionDetail({ owner, dataset, revision }: { owner: string; dataset: string; revision: number }) {
  const rev = usePoll(
    (signal) => api<Revision>(`/v1/specs/${enc(owner)}/${enc(dataset)}/revisions/${revision}`, { signal }),
    [owner, dataset, revision],
    2000,
  );
  if (rev.error) return <ErrorNote error={rev.error} />;
  const r = rev.data;
  if (!r) return <p class="muted">Loading…</p>;
  return (
    <section class="revision" data-revision={r.revision}>
      <h3>
        Revision {r.revision} <PipelineState state={r.state} />
      </h3>
      <p class="muted small-text">
        uploaded <Time iso={r.createdAt} />
        {r.finishedAt ? (
          <>
            , finished <Time iso={r.finishedAt} />
          </>
        ) : null}
        {r.prune ? ', with prune' : ''} · hash <code>{r.hash.slice(0, 12)}</code>
        {r.stats ? ` · ${count(r.stats.countOfRows)} events, ${bytes(r.stats.bytes)} in the dataset's streams` : ''}
      </p>
      {r.pipelines.length === 0 ? (
        <p class="muted">No pipelines: nothing to change.</p>
      ) : (
        <table class="pipelines">
          <thead>
            <tr>
              <th>pipeline</th>
              <th>action</th>
              <th>state</th>
              <th>waits for</th>
              <th>stats</th>
              <th>errors</th>
            </tr>
          </thead>
          <tbody>
            {r.pipelines.map((p) => (
              <tr key={p.id} data-pipeline={p.id.slice(r.id.length + 1)}>
                <td>
                  {p.title}
                  <div class="muted small-text">{p.id.slice(r.id.length + 1)}</div>
                </td>
                <td>{p.runner === 'external' ? 'external' : (p.action ?? '')}</td>
                <td>
                  <PipelineState state={p.status} />
                </td>
                <td class="small-text">{p.dependencies.map((d) => d.slice(r.id.length + 1)).join(', ')}</td>
                <td class="small-text">
                  {p.stats
                    ? Object.entries(p.stats)
                        .map(([k, v]) => `${k} ${typeof v === 'number' ? count(v) : JSON.stringify(v)}`)
                        .join(', ')
                    : ''}
                </td>
                <td class="small-text error-text">{p.errors.join('; ')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {r.orphans.length > 0 ? <p class="note">Kept without prune: {r.orphans.join(', ')}</p> : null}
      <details class="log">
        <summary>Log ({r.logs.length} lines)</summary>
        <pre>{r.logs.join('\n')}</pre>
      </details>
      <details class="spec">
        <summary>Spec</summary>
        <div class="json-box">
          <JsonView value={r.spec} />
        </div>
      </details>
    </section>
  );
}

export function SpecPage({
  owner,
  dataset,
  revision,
}: {
  owner: string;
  dataset: string;
  revision: string | undefined;
}) {
  const list = usePoll(
    (signal) => api<{ revisions: RevisionSummary[] }>(`/v1/specs/${enc(owner)}/${enc(dataset)}/revisions`, { signal }),
    [owner, dataset],
    2000,
  );
  const revisions = list.data ? [...list.data.revisions].reverse() : [];
  const selected = revision ? Number(revision) : revisions[0]?.revision;
  return (
    <div class="spec-page">
      <h2>
        <a href="#/specs">Specs</a> / {owner}/{dataset}
      </h2>
      <ErrorNote error={list.error} />
      {list.data ? (
        <div class="spec-body">
          <table class="revisions">
            <thead>
              <tr>
                <th class="num">revision</th>
                <th>state</th>
                <th>uploaded</th>
              </tr>
            </thead>
            <tbody>
              {revisions.map((r) => (
                <tr key={r.revision} data-revision={r.revision} class={r.revision === selected ? 'selected' : ''}>
                  <td class="num">
                    <a href={href('specs', owner, dataset, String(r.revision))}>{r.revision}</a>
                  </td>
                  <td>
                    <PipelineState state={r.state} />
                  </td>
                  <td>
                    <Time iso={r.createdAt} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <div class="revision-detail">
            {selected !== undefined ? <RevisionDetail owner={owner} dataset={dataset} revision={selected} /> : null}
          </div>
        </div>
      ) : list.error ? null : (
        <p class="muted">Loading…</p>
      )}
    </div>
  );
}
