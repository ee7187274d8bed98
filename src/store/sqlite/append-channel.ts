/**
 * How append requests reach the append worker: a ring in shared memory that the main thread
 * writes each request into as it is submitted, and the worker drains whenever it starts a
 * group. Measured against the first design (the main thread posting each group once the
 * worker was idle), this removes two waits from every commit cycle: the worker no longer
 * sleeps until the main thread's event loop has read the previous answer (about 0.5 ms on a
 * busy 2-core machine), and the main thread no longer pays postMessage's lock, shared with
 * the receiving thread, per group (0.4 ms on average, 9 ms at worst).
 *
 * One writer (the main thread) and one reader (the worker). The writer advances HEAD after a
 * record is complete; the reader copies records out and advances TAIL, so space is reusable
 * before the commit ends. The reader sleeps on HEAD with Atomics.wait when the ring is empty,
 * and says so first, so the writer calls Atomics.notify only then.
 *
 * A sleeping reader is woken at the end of the event-loop turn that wrote to the ring (or at
 * once when WAKE_AT requests are waiting), not by the first request of the turn: requests
 * arrive in bursts (one socket read per connection in a turn), and a reader woken by the first
 * one committed it alone while the rest of the burst waited for the next commit. A commit
 * costs ~110 µs of CPU however few requests it holds (fsync, WAL frames, locks), so those
 * one-request groups, 15 % of all under a closed-loop load, were the dearest requests the
 * server wrote. With the wake at the end of the turn they fell to 3 % and both threads spent
 * less per request (docs/benchmarks.md). A busy reader is not disturbed: it takes whatever is
 * in the ring when its commit ends, as before.
 *
 * A request too large for the ring travels by
 * postMessage instead, announced by a marker record so the order is kept; the worker takes it
 * with receiveMessageOnPort, which needs no event loop. When the ring is full, the writer
 * keeps requests in order until the reader frees space.
 */
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { EVENT_INTS, type WireRequest, type WorkerSettings } from './append-wire.js';

/** ctrl indices */
const HEAD = 0;
const TAIL = 1;
/**
 * 1 while the reader is about to sleep or sleeping: only then does the writer pay for a
 * wake-up; 2 once the writer has woken it (so it is woken once); the reader resets it to 0
 */
const SLEEPING = 2;
const CTRL_INTS = 3;
/** waiting requests that wake a sleeping reader before the turn ends: a long turn must not hold a full group back */
const WAKE_AT = 8;

/** a record's first int: its size in bytes; these mark something else */
const WRAP = -1;
const POSTED = -2;
/** the last record: the worker closes once it reaches it */
const CLOSE = -3;

/** ints ahead of a record's event ints: size, count, and the lengths of stream, producer, idempotency key, request hash and text (−1: absent) */
const HEADER_INTS = 7;
/** text is stored as UTF-16, which round-trips any JS string exactly (a lone surrogate too) */
const BYTES_PER_UNIT = 2;
const DEFAULT_RING_BYTES = 8 << 20;

export interface ChannelBuffers {
  ctrl: SharedArrayBuffer;
  ring: SharedArrayBuffer;
}

/** what the append worker starts with */
export interface AppendWorkerData {
  settings: WorkerSettings;
  channel: ChannelBuffers;
  /** most events taken into one group (a single request may exceed it) */
  maxGroupEvents: number;
}

export function allocateChannel(ringBytes = DEFAULT_RING_BYTES): ChannelBuffers {
  return { ctrl: new SharedArrayBuffer(CTRL_INTS * 4), ring: new SharedArrayBuffer(ringBytes - (ringBytes % 4)) };
}

/** the main thread's end */
export class RingWriter {
  private readonly ctrl: Int32Array;
  private readonly ints: Int32Array;
  private readonly bytes: Buffer;
  private readonly capacity: number;
  /** requests at or above this size go by postMessage */
  private readonly largest: number;
  private head = 0;
  private readonly waiting: WireRequest[] = [];
  /** requests written since the reader was last seen asleep */
  private sinceSleep = 0;
  private wakeScheduled = false;

  /** `port`: the worker (or any port whose other end the reader reads) */
  constructor(
    private readonly port: { postMessage(message: unknown): void },
    buffers: ChannelBuffers,
  ) {
    this.ctrl = new Int32Array(buffers.ctrl);
    this.ints = new Int32Array(buffers.ring);
    this.bytes = Buffer.from(buffers.ring);
    this.capacity = buffers.ring.byteLength;
    this.largest = this.capacity >> 3;
  }

  /** how many requests wait for room in the ring */
  get backlog(): number {
    return this.waiting.length;
  }

  /** queues a request for the worker, in order after every earlier one */
  write(request: WireRequest): void {
    if (this.waiting.length > 0 || !this.tryWrite(request)) this.waiting.push(request);
  }

  /** moves waiting requests into the ring as far as the reader has made room */
  flush(): void {
    let moved = 0;
    while (moved < this.waiting.length && this.tryWrite(this.waiting[moved]!)) moved++;
    if (moved > 0) this.waiting.splice(0, moved);
  }

  /** asks the worker to close after everything written so far; call once nothing waits for room */
  close(): void {
    const at = this.reserve(4);
    if (at < 0) throw new Error('the append ring is closed while full');
    this.ints[at >> 2] = CLOSE;
    this.publish(at + 4);
    this.wake();
  }

  private tryWrite(r: WireRequest): boolean {
    const units =
      r.stream.length +
      (r.producer?.length ?? 0) +
      (r.idempotencyKey?.length ?? 0) +
      (r.requestHash?.length ?? 0) +
      r.text.length;
    const size = align((HEADER_INTS + r.count * EVENT_INTS) * 4 + units * BYTES_PER_UNIT);
    const posted = size >= this.largest;
    const at = this.reserve(posted ? 4 : size);
    if (at < 0) return false;
    if (posted) {
      // queued on the port before the marker is published, so the reader finds it there
      this.port.postMessage(r);
      this.ints[at >> 2] = POSTED;
      this.publish(at + 4);
      return true;
    }
    const ints = this.ints;
    let i = at >> 2;
    ints[i++] = size;
    ints[i++] = r.count;
    ints[i++] = r.stream.length;
    ints[i++] = r.producer === null ? -1 : r.producer.length;
    ints[i++] = r.idempotencyKey === undefined ? -1 : r.idempotencyKey.length;
    ints[i++] = r.requestHash === undefined ? -1 : r.requestHash.length;
    ints[i++] = r.text.length;
    const eventInts = r.ints;
    for (let k = 0, n = r.count * EVENT_INTS; k < n; k++) ints[i++] = eventInts[k]!;
    let b = i << 2;
    const bytes = this.bytes;
    b += bytes.write(r.stream, b, 'utf16le');
    if (r.producer !== null) b += bytes.write(r.producer, b, 'utf16le');
    if (r.idempotencyKey !== undefined) b += bytes.write(r.idempotencyKey, b, 'utf16le');
    if (r.requestHash !== undefined) b += bytes.write(r.requestHash, b, 'utf16le');
    bytes.write(r.text, b, 'utf16le');
    this.publish(at + size);
    return true;
  }

  /**
   * where `size` bytes can be written, or −1 when the ring lacks room. HEAD never reaches the
   * end of the ring (there is always room left for a wrap marker), and never catches up with
   * TAIL from behind (HEAD = TAIL means empty).
   */
  private reserve(size: number): number {
    const tail = Atomics.load(this.ctrl, TAIL);
    const head = this.head;
    if (head >= tail) {
      if (head + size + 4 <= this.capacity) return head;
      if (size < tail) {
        this.ints[head >> 2] = WRAP;
        return 0;
      }
      return -1;
    }
    return head + size < tail ? head : -1;
  }

  private publish(head: number): void {
    this.head = head;
    Atomics.store(this.ctrl, HEAD, head);
    // sequentially consistent with the reader's SLEEPING-then-HEAD: either it sees this HEAD
    // before it sleeps, or this sees SLEEPING and wakes it (now, or when the turn ends)
    if (Atomics.load(this.ctrl, SLEEPING) !== 1) {
      this.sinceSleep = 0;
      return;
    }
    if (++this.sinceSleep >= WAKE_AT) this.wake();
    else if (!this.wakeScheduled) {
      this.wakeScheduled = true;
      // check phase: after every I/O callback of this turn, so the whole burst is in the ring
      setImmediate(this.wakeLater);
    }
  }

  private readonly wakeLater = (): void => {
    this.wakeScheduled = false;
    this.wake();
  };

  /** wakes the reader if it sleeps and nobody woke it yet */
  private wake(): void {
    this.sinceSleep = 0;
    if (Atomics.compareExchange(this.ctrl, SLEEPING, 1, 2) === 1) Atomics.notify(this.ctrl, HEAD);
  }
}

export type Taken = { kind: 'requests'; requests: WireRequest[] } | { kind: 'close' };

/** the worker's end */
export class RingReader {
  private readonly ctrl: Int32Array;
  private readonly ints: Int32Array;
  private readonly bytes: Buffer;
  private tail = 0;

  constructor(
    private readonly port: MessagePort,
    buffers: ChannelBuffers,
  ) {
    this.ctrl = new Int32Array(buffers.ctrl);
    this.ints = new Int32Array(buffers.ring);
    this.bytes = Buffer.from(buffers.ring);
  }

  /**
   * everything in the ring, up to about `maxEvents` events (always at least one request);
   * blocks the thread while the ring is empty. Answers close once it reaches the close marker.
   */
  take(maxEvents: number): Taken {
    let head = Atomics.load(this.ctrl, HEAD);
    while (head === this.tail) {
      Atomics.store(this.ctrl, SLEEPING, 1);
      head = Atomics.load(this.ctrl, HEAD);
      if (head === this.tail) Atomics.wait(this.ctrl, HEAD, head);
      Atomics.store(this.ctrl, SLEEPING, 0);
      head = Atomics.load(this.ctrl, HEAD);
    }
    const requests: WireRequest[] = [];
    let events = 0;
    while (this.tail !== head && (requests.length === 0 || events < maxEvents)) {
      if (this.ints[this.tail >> 2] === CLOSE) {
        // answer what came before it first; the next take finds the marker again
        if (requests.length === 0) return { kind: 'close' };
        break;
      }
      const request = this.readOne();
      if (!request) continue;
      requests.push(request);
      events += request.count;
    }
    Atomics.store(this.ctrl, TAIL, this.tail);
    return { kind: 'requests', requests };
  }

  /** the request at the tail, advancing past it; undefined after a wrap marker */
  private readOne(): WireRequest | undefined {
    const ints = this.ints;
    let i = this.tail >> 2;
    const size = ints[i]!;
    if (size === WRAP) {
      this.tail = 0;
      return undefined;
    }
    if (size === POSTED) {
      this.tail += 4;
      const received = receiveMessageOnPort(this.port);
      if (!received) throw new Error('the append ring announced a posted request that did not arrive');
      return received.message as WireRequest;
    }
    const count = ints[i + 1]!;
    const streamLen = ints[i + 2]!;
    const producerLen = ints[i + 3]!;
    const keyLen = ints[i + 4]!;
    const hashLen = ints[i + 5]!;
    const textLen = ints[i + 6]!;
    i += HEADER_INTS;
    // copies: the writer may reuse the space as soon as TAIL moves
    const eventInts = ints.slice(i, i + count * EVENT_INTS);
    let b = (i + count * EVENT_INTS) << 2;
    const take = (units: number): string => this.bytes.toString('utf16le', b, (b += units * BYTES_PER_UNIT));
    const stream = take(streamLen);
    const producer = producerLen < 0 ? null : take(producerLen);
    const idempotencyKey = keyLen < 0 ? undefined : take(keyLen);
    const requestHash = hashLen < 0 ? undefined : take(hashLen);
    const text = take(textLen);
    this.tail += size;
    return { stream, producer, idempotencyKey, requestHash, count, text, ints: eventInts };
  }
}

function align(bytes: number): number {
  return (bytes + 3) & ~3;
}
