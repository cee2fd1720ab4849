#!/usr/bin/env bash
# local-store.sh — the local stack's storage, before and after the bbolt
# store, side by side in one run (docs/local-storage.md#figures):
#
#   1. start to the first answered read with N items in the data dir,
#      after kill -9 and after a clean stop, and the server's own memory
#      (RssAnon) then (bench/localstartup);
#   2. RssAnon after start with ~1 GB of data (10,000 items of 100 KB);
#   3. the data dir's size after 1,000 updates of one 100 KB item;
#   4. server CPU per read at a fixed 2,000 req/s (vegeta), ddbops local
#      before and after, and dynalite's GetItem at the same rate;
#   5. write latency (p50/p99) at 200 writes/s from 8 clients (vegeta,
#      unique creates);
#   6. the store's group commit against bbolt's DB.Batch at a few delays
#      (go test -bench in internal/local/store).
#
# "before" is the release before the bbolt store (commit 5411205, journal +
# snapshot), built from `git archive` into a temporary directory; "after"
# is this checkout. Nothing is committed; everything runs on loopback.
#
# Usage: bench/local-store.sh        (from anywhere in the checkout)
# Environment: START_ITEMS (200000,1000000), BIG_ITEMS (10000), BIG_PAD
#              (100000), READ_DURATION (20s), WRITE_DURATION (30s),
#              PARTS (1 2 3 4 5 6), BEFORE_COMMIT (5411205)
set -euo pipefail

START_ITEMS=${START_ITEMS:-200000,1000000}
BIG_ITEMS=${BIG_ITEMS:-10000}
BIG_PAD=${BIG_PAD:-100000}
READ_DURATION=${READ_DURATION:-20s}
WRITE_DURATION=${WRITE_DURATION:-30s}
PARTS=${PARTS:-1 2 3 4 5 6}
BEFORE_COMMIT=${BEFORE_COMMIT:-5411205}

bench_name=local-store
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
need go
need curl
need python3
has() { [[ " $PARTS " == *" $1 "* ]]; }

echo "building ddbops before ($BEFORE_COMMIT) and after, vegeta and localstartup …" >&2
build_ddbops "$tmp/before" "$BEFORE_COMMIT"
build_ddbops "$tmp/after"
(cd "$root" && go build -o "$tmp/localstartup" ./bench/localstartup)
install_vegeta

# serve BIN DIR: starts ddbops local, sets $url and $pid.
serve() {
	start_local serve "$1" --data-dir "$2" --auth none
	pid=$local_pid
}
stop() { stop_local "$pid"; }

# attack NAME TARGETS RATE DURATION WORKERS SERVER_PID: one vegeta run,
# one line in $tmp/attacks.tsv (name, requests, success, p50 ms, p99 ms,
# server CPU µs per request).
attack() {
	local name=$1 targets=$2 rate=$3 duration=$4 workers=$5 spid=$6 before after
	before=$(cputicks "$spid")
	"$tmp/vegeta" attack -format="${FORMAT:-http}" -targets="$targets" -rate="$rate" -duration="$duration" \
		-workers="$workers" -max-workers="$workers" -output="$tmp/$name.bin"
	after=$(cputicks "$spid")
	"$tmp/vegeta" report -type=json -output="$tmp/$name.report" "$tmp/$name.bin"
	python3 - "$tmp/$name.report" "$name" "$((after - before))" "$(getconf CLK_TCK)" >>"$tmp/attacks.tsv" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
cpu_s = int(sys.argv[3]) / int(sys.argv[4])
print(f"{sys.argv[2]}\t{d['requests']}\t{d['success']:.4f}\t{d['latencies']['50th']/1e6:.2f}\t{d['latencies']['99th']/1e6:.2f}\t{1e6*cpu_s/d['requests']:.1f}\t{json.dumps(d['status_codes'])}")
PY
}
: >"$tmp/attacks.tsv"

echo "machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"

if has 1; then
	echo
	echo "== 1. start to the first answered read, and RssAnon (MiB), with N items (kill -9 after loading them)"
	"$tmp/localstartup" -ddbops "before=$tmp/before" -ddbops "after=$tmp/after" -items "$START_ITEMS"
fi

if has 2; then
	echo
	echo "== 2. RssAnon after start with $BIG_ITEMS items of $BIG_PAD bytes (~$((BIG_ITEMS * BIG_PAD / 1000000)) MB)"
	"$tmp/localstartup" -ddbops "before=$tmp/before" -ddbops "after=$tmp/after" -items "$BIG_ITEMS" -pad "$BIG_PAD" -workers 8
fi

if has 3; then
	echo
	echo "== 3. data dir after 1,000 updates of one 100 KB item (apparent size / allocated)"
	python3 -c 'import json; print(json.dumps({"operation":"create","payload":{"Item":{"id":"big","n":0,"pad":"x"*100000}}}))' >"$tmp/big.json"
	printf '{"operation":"update","payload":{"Key":{"id":"big"},"UpdateExpression":"SET n = n + :one","ExpressionAttributeValues":{":one":1}}}' >"$tmp/upd.json"
	for b in before after; do
		dir="$tmp/upd-$b"
		serve "$tmp/$b" "$dir"
		curl -sf -X POST --data-binary @"$tmp/big.json" "$url" >/dev/null || die "create big failed"
		printf 'POST %s\nContent-Type: application/json\n@%s\n' "$url" "$tmp/upd.json" >"$tmp/upd.targets"
		attack "update-$b" "$tmp/upd.targets" 200 5s 8 "$pid" >/dev/null
		n=$(curl -sf -X POST -d '{"operation":"read","payload":{"Key":{"id":"big"},"ProjectionExpression":"n"}}' "$url")
		stop
		printf '%-7s n=%-26s %8.1f MiB apparent %8.1f MiB allocated\n' "$b" "$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["Item"]["n"])' "$n")" \
			"$(du -sb "$dir" | awk '{print $1/1048576}')" "$(du -sk "$dir" | awk '{print $1/1024}')"
		ls -l "$dir" | sed 's/^/        /'
	done
fi

if has 4; then
	echo
	echo "== 4. server CPU per read at a fixed 2,000 req/s for $READ_DURATION"
	for round in 1 2; do
		for b in before after; do
			serve "$tmp/$b" "$tmp/read-$b"
			curl -sf -X POST -d '{"operation":"create","payload":{"Item":{"id":"1","name":"Bob"}}}' "$url" >/dev/null
			local_read_targets "$url" "$tmp/read.targets"
			attack "read-$b#$round" "$tmp/read.targets" 2000 "$READ_DURATION" 64 "$pid"
			stop
		done
		dynalite=${DYNALITE:-$HOME/.cache/ddbops/npm/node_modules/.bin/dynalite}
		if [[ -x "$dynalite" ]]; then
			port=$(freeport)
			"$dynalite" --port "$port" >"$tmp/dynalite.log" 2>&1 &
			dpid=$!
			track "$dpid"
			durl="http://127.0.0.1:$port/"
			for _ in $(seq 1 200); do ddb "$durl" ListTables '{}' >/dev/null 2>&1 && break; sleep 0.05; done
			ddb "$durl" CreateTable '{"TableName":"lambda-apigateway","AttributeDefinitions":[{"AttributeName":"id","AttributeType":"S"}],"KeySchema":[{"AttributeName":"id","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}' >/dev/null
			for _ in $(seq 1 100); do ddb "$durl" DescribeTable '{"TableName":"lambda-apigateway"}' | grep -q ACTIVE && break; sleep 0.1; done
			ddb "$durl" PutItem '{"TableName":"lambda-apigateway","Item":{"id":{"S":"1"},"name":{"S":"Bob"}}}' >/dev/null
			ddb "$durl" GetItem '{"TableName":"lambda-apigateway","Key":{"id":{"S":"1"}}}' | grep -q Bob || die "dynalite GetItem does not find the item"
			ddb_get_targets "$durl" "$tmp/dynalite.targets"
			attack "dynalite#$round" "$tmp/dynalite.targets" 2000 "$READ_DURATION" 64 "$dpid"
			kill "$dpid"
			wait "$dpid" 2>/dev/null || true
		else
			echo "dynalite not found at $dynalite (npm install --prefix ~/.cache/ddbops/npm dynalite@4): skipped" >&2
		fi
	done
fi

if has 5; then
	echo
	echo "== 5. write latency at 200 writes/s from 8 clients for $WRITE_DURATION (unique creates)"
	for b in before after; do
		serve "$tmp/$b" "$tmp/write-$b"
		python3 - "$url" 20000 >"$tmp/write.targets" <<'PY'
import base64, json, sys
url, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    body = json.dumps({"operation": "create", "payload": {"Item": {"id": f"w{i}", "name": "user", "n": i}}})
    print(json.dumps({"method": "POST", "url": url, "header": {"Content-Type": ["application/json"]}, "body": base64.b64encode(body.encode()).decode()}))
PY
		FORMAT=json attack "write-$b" "$tmp/write.targets" 200 "$WRITE_DURATION" 8 "$pid"
		stop
	done
fi

if [[ -s "$tmp/attacks.tsv" ]]; then
	echo
	echo "== vegeta runs (parts 4 and 5)"
	python3 - "$tmp/attacks.tsv" <<'PY'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
print(f"{'run':<16} {'requests':>9} {'success':>8} {'p50 ms':>8} {'p99 ms':>8} {'server CPU µs/req':>18}  status codes")
cpu = {}
for name, req, succ, p50, p99, us, codes in rows:
    print(f"{name:<16} {req:>9} {100*float(succ):>7.2f}% {float(p50):>8.2f} {float(p99):>8.2f} {float(us):>18.1f}  {codes}")
    if name.startswith(("read-", "dynalite")):
        cpu.setdefault(name.split("#")[0], []).append(float(us))
if cpu:
    best = {k: min(v) for k, v in cpu.items()}
    print()
    print("server CPU per read at 2,000 req/s (best round): " + ", ".join(f"{k} {v:.1f} µs" for k, v in best.items()))
    if "read-after" in best and "read-before" in best:
        print(f"ratio after / before: {best['read-after'] / best['read-before']:.2f}")
    if "read-after" in best and "dynalite" in best:
        print(f"ratio after / dynalite GetItem: {best['read-after'] / best['dynalite']:.2f}")
PY
fi

if has 6; then
	echo
	echo "== 6. group commit: the store's committer vs bbolt's DB.Batch, 8 writers at 200 writes/s"
	(cd "$root" && go test -run '^$' -bench 'BenchmarkWriteLatency' -benchtime 1x ./internal/local/store/ | grep -E '^Benchmark|p50')
fi
