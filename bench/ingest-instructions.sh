#!/usr/bin/env bash
# Instructions per single-event produce request, counted by valgrind's callgrind: unlike CPU
# time they barely move with what else the machine runs, so two builds compare on a busy box.
# Starts `rivulet serve` (durable acks, admission's event-loop check off: valgrind is ~50× slower)
# from <dir>/dist under callgrind, warms it with 1,500 requests, counts 15 s idle (background
# timers) and then <requests> POSTs from 4 connections, and prints the buckets of
# callgrind-buckets.mjs. `--single-threaded` and a low `--interrupt-budget` make V8 compile on
# the main thread and tier up sooner, so less of the counted window is compilation.
# Usage: bench/ingest-instructions.sh <checkout with dist/> <on|off (produce lane)> [requests] [out dir]
set -euo pipefail
DIR=$(cd "$1" && pwd); LANE=$2; N=${3:-1000}; OUT=${4:-$(mktemp -d /tmp/rivulet-icount-XXXX)}
HERE=$(cd "$(dirname "$0")" && pwd)
AC="$HERE/../node_modules/.bin/autocannon"
mkdir -p "$OUT/data"
KEY=rk_instructionsinstructionsinstructions01
PORT=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
cd "$DIR"
RIVULET_ADMIN_KEY=$KEY valgrind --tool=callgrind --smc-check=all-non-file --instr-atstart=no --callgrind-out-file="$OUT/cg.%p" \
  node --single-threaded --interrupt-budget=8192 dist/cli/main.js serve --host 127.0.0.1 --port "$PORT" --data-dir "$OUT/data" \
  --log-level warn --durability strict --produce-lane "$LANE" --max-event-loop-delay 0 > "$OUT/server.log" 2>&1 &
PID=$!
trap 'kill -TERM $PID 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do grep -q "listening on" "$OUT/server.log" && break; sleep 1; done
URL=http://127.0.0.1:$PORT
AUTH="authorization: Bearer $KEY"
curl -sf -XPOST -H "$AUTH" -H 'content-type: application/json' "$URL/v1/streams" -d '{"name":"bench"}' > /dev/null
BODY='{"type":"bench.reading","source":"/bench","data":{"sensor":"s-1","value":1.5,"unit":"celsius","tags":["a","b"],"ok":true}}'
load() { "$AC" -m POST -H "$AUTH" -H 'content-type: application/json' -b "$BODY" -c 4 -t 120 -a "$1" "$URL/v1/streams/bench/events" > "$OUT/load-$1.txt" 2>&1; }
load 1500
callgrind_control -i on $PID > /dev/null
sleep 15
callgrind_control -d idle $PID > /dev/null
load "$N"
callgrind_control -d load $PID > /dev/null
callgrind_control -i off $PID > /dev/null
kill -TERM $PID; wait $PID || true
trap - EXIT
echo "idle 15 s:"; node "$HERE/callgrind-buckets.mjs" "$OUT"/cg.$PID.1 --requests "$N"
echo "load:"; node "$HERE/callgrind-buckets.mjs" "$OUT"/cg.$PID.2 --requests "$N"
grep -E "requests in" "$OUT/load-$N.txt"
echo "dumps in $OUT"
