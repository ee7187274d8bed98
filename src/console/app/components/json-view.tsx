/** A collapsible JSON tree: objects and arrays fold, leaves are coloured by kind. */
import type { ComponentChild } from 'preact';

function Leaf({ value }: { value: unknown }) {
  if (value === null) return <span class="j-null">null</span>;
  if (typeof value === 'string') return <span class="j-str">{JSON.stringify(value)}</span>;
  if (typeof value === 'number') return <span class="j-num">{String(value)}</span>;
  if (typeof value === 'boolean') return <span class="j-bool">{String(value)}</span>;
  return <span>{String(value)}</span>;
}

function Node({ name, value, depth }: { name: ComponentChild; value: unknown; depth: number }) {
  const label = name === null ? null : <span class="j-key">{name}: </span>;
  if (value === null || typeof value !== 'object') {
    return (
      <div class="j-row">
        {label}
        <Leaf value={value} />
      </div>
    );
  }
  const entries: [string, unknown][] = Array.isArray(value)
    ? value.map((v, i) => [String(i), v])
    : Object.entries(value as Record<string, unknown>);
  const [open, close] = Array.isArray(value) ? ['[', ']'] : ['{', '}'];
  if (entries.length === 0) {
    return (
      <div class="j-row">
        {label}
        <span>{open + close}</span>
      </div>
    );
  }
  return (
    <details class="j-node" open={depth < 3}>
      <summary>
        {label}
        <span class="j-brace">{open}</span>
        <span class="j-count">
          {' '}
          {entries.length} {Array.isArray(value) ? 'items' : 'keys'}{' '}
        </span>
      </summary>
      <div class="j-children">
        {entries.map(([k, v]) => (
          <Node key={k} name={Array.isArray(value) ? null : JSON.stringify(k)} value={v} depth={depth + 1} />
        ))}
      </div>
      <span class="j-brace">{close}</span>
    </details>
  );
}

export function JsonView({ value }: { value: unknown }) {
  return (
    <div class="json-view">
      <Node name={null} value={value} depth={0} />
    </div>
  );
}
