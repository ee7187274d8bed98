/**
 * A job as the aether API answers it: the seed's fields, secrets redacted, plus `status` and,
 * while some of its topics do not exist yet, `waiting_for` (those topics).
 */
import type { SinkView } from '../../core/sinks/sink-model.js';
import { REDACTED, redactedHeaders } from '../../kernel/secret-names.js';
import { redactedUrl } from '../../kernel/secret-urls.js';
import { jobOf, labelOf } from './aether-job.js';

export interface JobView {
  id: string;
  owner: string;
  modified: string;
  hash: string;
  type: string;
  topic: string[];
  url: string;
  datamap?: Record<string, string>;
  [field: string]: unknown;
}

/** The job from the sink as described (target already redacted); secrets are replaced once more, by field. */
export function jobView(sink: SinkView): JobView {
  const job = jobOf(sink);
  const label = labelOf(sink);
  return {
    id: job.id,
    owner: job.owner,
    modified: label?.modified ?? sink.updatedAt,
    hash: label?.hash ?? '',
    type: job.type,
    topic: job.topic,
    url: redactedUrl(job.url),
    ...(job.datamap === undefined ? {} : { datamap: job.datamap }),
    ...(job.constant === undefined ? {} : { constant: job.constant }),
    ...(job.query_params === undefined ? {} : { query_params: job.query_params }),
    ...(job.json_body === undefined ? {} : { json_body: job.json_body }),
    ...(job.basic_auth === undefined ? {} : { basic_auth: { user: job.basic_auth.user, pw: REDACTED } }),
    ...(job.token === undefined ? {} : { token: REDACTED }),
    ...(job.headers === undefined ? {} : { headers: redactHeaders(job.headers) }),
    ...(job.rate_limit === undefined ? {} : { rate_limit: job.rate_limit }),
    status: sink.status,
    ...(sink.waitingFor.length === 0 ? {} : { waiting_for: sink.waitingFor }),
  };
}

export function redactHeaders(headers: Record<string, string>): Record<string, string> {
  return redactedHeaders(headers);
}
