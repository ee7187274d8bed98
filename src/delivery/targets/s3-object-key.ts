/**
 * Where the `s3` target puts a batch: one object per source stream,
 * `[prefix/]stream/yyyy/mm/dd/hh/<first seq>-<last seq>.ndjson[.gz]`, the hour being that of
 * the first event's `received` time in UTC (the Firehose layout, partitioned by stream).
 *
 * The key depends only on the events in the batch, so a retry of the same batch writes the
 * same key again and the overwrite is harmless. `received` rather than the producer's `time`
 * because it is the server's own clock: a producer's clock cannot scatter objects across
 * years, and events of one stream arrive at their partitions in seq order.
 */
import type { DeliveryItem } from './target.js';

export interface StreamGroup {
  stream: string;
  /** the batch's items of this stream, in batch order */
  items: DeliveryItem[];
  /** their positions in the batch, for the outcomes */
  indexes: number[];
}

/** Items grouped by source stream, in order of first appearance. */
export function groupByStream(items: readonly DeliveryItem[]): StreamGroup[] {
  const groups = new Map<string, StreamGroup>();
  items.forEach((item, index) => {
    const stream = item.event.stream;
    let group = groups.get(stream);
    if (group === undefined) {
      group = { stream, items: [], indexes: [] };
      groups.set(stream, group);
    }
    group.items.push(item);
    group.indexes.push(index);
  });
  return [...groups.values()];
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** `yyyy/mm/dd/hh` of an RFC 3339 time, in UTC. */
export function hourPartition(time: string): string {
  const date = new Date(time);
  if (Number.isNaN(date.getTime())) throw new Error(`not a timestamp: ${JSON.stringify(time)}`);
  return `${pad(date.getUTCFullYear(), 4)}/${pad(date.getUTCMonth() + 1)}/${pad(date.getUTCDate())}/${pad(date.getUTCHours())}`;
}

/** The key of the object holding `group` (non-empty). */
export function objectKey(group: StreamGroup, options: { prefix?: string; gzip: boolean }): string {
  const [first] = group.items;
  if (first === undefined) throw new Error('an object key needs at least one event');
  let low = first.event.seq;
  let high = first.event.seq;
  for (const { event } of group.items) {
    low = Math.min(low, event.seq);
    high = Math.max(high, event.seq);
  }
  const prefix = options.prefix === undefined ? '' : `${options.prefix.replace(/\/+$/, '')}/`;
  const extension = options.gzip ? '.ndjson.gz' : '.ndjson';
  return `${prefix}${group.stream}/${hourPartition(first.event.received)}/${low}-${high}${extension}`;
}
