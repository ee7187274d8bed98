/**
 * How Rivulet names map onto NATS names. Stream names, event types, event ids, document
 * collections and keys are free text; JetStream stream names, subject tokens and KV keys
 * are not (no `.`, `*`, `>`, spaces). Each such value is encoded as one token of unpadded
 * base64url (`[A-Za-z0-9_-]`), which is valid everywhere and decodes back exactly.
 *
 * Everything lives under one namespace (`prefix`, `rivulet` by default), so several
 * deployments — or tests — can share a cluster without seeing each other.
 */

/** one safe token for `value`; the empty string becomes `_` (base64url never yields it alone) */
export function token(value: string): string {
  return value === '' ? '_' : Buffer.from(value, 'utf8').toString('base64url');
}

export function fromToken(encoded: string): string {
  return encoded === '_' ? '' : Buffer.from(encoded, 'base64url').toString('utf8');
}

export class NatsNames {
  constructor(readonly prefix: string) {
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(prefix))
      throw new Error(`NATS namespace "${prefix}" must be 1-32 of [A-Za-z0-9_-]`);
  }

  /** the JetStream stream that holds one Rivulet stream's events */
  jsStream(stream: string): string {
    return `${this.prefix}_${token(stream)}`;
  }

  /** every subject of one Rivulet stream's events: `<prefix>.e.<stream>.<type>.<id>` */
  streamSubjects(stream: string): string {
    return `${this.prefix}.e.${token(stream)}.>`;
  }

  eventSubject(stream: string, type: string, id: string): string {
    return `${this.typeSubjectPrefix(stream, type)}${token(id)}`;
  }

  /** an event's subject up to its id's token (`<prefix>.e.<stream>.<type>.`), which writers cache per type */
  typeSubjectPrefix(stream: string, type: string): string {
    return `${this.prefix}.e.${token(stream)}.${token(type)}.`;
  }

  /** the events of one type (a consumer filter or a `next_by_subj`) */
  typeFilter(stream: string, type: string): string {
    return `${this.prefix}.e.${token(stream)}.${token(type)}.*`;
  }

  idFilter(stream: string, id: string): string {
    return `${this.prefix}.e.${token(stream)}.*.${token(id)}`;
  }

  /** core-NATS subject a writer announces `lastSeq` on after its append is acknowledged */
  notifySubject(stream: string): string {
    return `${this.prefix}.n.${token(stream)}`;
  }

  notifyAll(): string {
    return `${this.prefix}.n.*`;
  }

  streamOfNotify(subject: string): string {
    return fromToken(subject.slice(subject.lastIndexOf('.') + 1));
  }

  /** KV bucket names: `<prefix>_streams`, `_docs`, `_idem`, `_consumers` */
  bucket(kind: 'streams' | 'docs' | 'idem' | 'consumers'): string {
    return `${this.prefix}_${kind}`;
  }
}
