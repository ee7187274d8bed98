// A worker thread holding some of the live bench's WebSocket subscribers, so that with many
// subscribers the client's own parsing is spread over threads instead of becoming what is
// measured. Every message carries `data.t`, its send time (performance.timeOrigin + now(),
// comparable across threads); messages sent before the measured window are not counted.
// Rivulet's events also carry `received` (when the store wrote them, ms): the time from there
// to arrival is the server's commit and live path without the HTTP request in front.
// Messages from the main thread: {window: t}, {count: true} → {delivered}, {collect: true} →
// {delivered, latencies, fromStore: Float64Array} and the sockets are closed.
import { parentPort, workerData } from 'node:worker_threads';
import { WebSocket } from 'ws';

// parse: false counts messages without reading them (a subscriber whose latencies are not wanted)
const { url, count, parse = true } = workerData;
const now = () => performance.timeOrigin + performance.now();
let windowStart = Number.POSITIVE_INFINITY;
let delivered = 0;
let stored = 0;
let latencies = new Float64Array(1024);
let fromStore = new Float64Array(1024);

const grow = (a, n) => {
  if (n < a.length) return a;
  const grown = new Float64Array(a.length * 2);
  grown.set(a);
  return grown;
};

const sockets = [];
const opened = [];
for (let i = 0; i < count; i++) {
  const ws = new WebSocket(url);
  ws.on('message', (raw) => {
    if (!parse) {
      delivered++;
      return;
    }
    const at = now();
    const msg = JSON.parse(String(raw));
    const t = msg.data?.t;
    if (typeof t !== 'number' || t < windowStart) return;
    latencies = grow(latencies, delivered);
    latencies[delivered++] = at - t;
    if (typeof msg.received === 'string') {
      fromStore = grow(fromStore, stored);
      fromStore[stored++] = Date.now() - Date.parse(msg.received);
    }
  });
  sockets.push(ws);
  opened.push(
    new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    }),
  );
}

Promise.all(opened).then(
  () => parentPort.postMessage({ opened: true }),
  (err) => parentPort.postMessage({ error: String(err) }),
);

parentPort.on('message', (msg) => {
  if (msg.window !== undefined) {
    windowStart = msg.window;
    delivered = 0;
    stored = 0;
  } else if (msg.count) {
    parentPort.postMessage({ delivered });
  } else if (msg.collect) {
    for (const ws of sockets) ws.terminate();
    const out = latencies.slice(0, delivered);
    const outStored = fromStore.slice(0, stored);
    parentPort.postMessage({ delivered, latencies: out, fromStore: outStored }, [out.buffer, outStored.buffer]);
    parentPort.close();
  }
});
