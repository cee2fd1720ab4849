#!/usr/bin/env bash
# vegeta-vs-ddbops.sh — compare `ddbops bench` with the vegeta CLI on the
# same target, side by side in one run (docs/benchmarks.md#rules): achieved send rate,
# success ratio and client CPU seconds per request, and their ratios.
#
# It builds ddbops and vegeta (into a temporary directory; nothing is
# committed), starts `ddbops local` with apikey auth on a free loopback port,
# creates the ids bench-1 … bench-N once, then runs ddbops and vegeta in the
# order ddbops, vegeta, vegeta, ddbops (so neither always goes first on a
# machine whose load drifts) with the same request bodies and headers.
#
# Usage: bench/vegeta-vs-ddbops.sh        (from anywhere in the checkout)
# Environment: RATE (1000), DURATION (5s), KEYS (100), WORKERS (256),
#              ROUNDS (2: each tool runs ROUNDS times).
#
# Client CPU is user+system time of the load generator's process, from
# /usr/bin/time. vegeta's own cost is reported twice: `vegeta attack` alone
# (it writes binary results) and attack + `vegeta report`, since ddbops
# computes its report in the same process.
set -euo pipefail

RATE=${RATE:-1000}
DURATION=${DURATION:-5s}
KEYS=${KEYS:-100}
WORKERS=${WORKERS:-256}
ROUNDS=${ROUNDS:-2}

root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
local_pid=""
cleanup() {
	if [[ -n "$local_pid" ]]; then
		kill "$local_pid" 2>/dev/null || true
		wait "$local_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

need() { command -v "$1" >/dev/null || { echo "vegeta-vs-ddbops: $1 is required" >&2; exit 1; }; }
need go
need python3
[[ -x /usr/bin/time ]] || { echo "vegeta-vs-ddbops: /usr/bin/time is required (apt-get install time)" >&2; exit 1; }

echo "building ddbops and vegeta …" >&2
(cd "$root" && go build -o "$tmp/ddbops" ./cmd/ddbops)
# The vegeta CLI at the version go.mod pins for its library, built outside
# this module (go.mod requires only the library's packages).
vegeta_version=$(cd "$root" && go list -m -f '{{.Version}}' github.com/tsenart/vegeta/v12)
GOBIN="$tmp" go install "github.com/tsenart/vegeta/v12@$vegeta_version"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
key=$(python3 -c 'import secrets; print(secrets.token_hex(20))')
url="http://127.0.0.1:$port/prod/DynamoDBManager"

"$tmp/ddbops" local --addr "127.0.0.1:$port" --data-dir "$tmp/data" --auth apikey --api-key "$key" >"$tmp/local.log" 2>&1 &
local_pid=$!
for _ in $(seq 1 200); do
	if grep -q "ready on" "$tmp/local.log" 2>/dev/null; then break; fi
	if ! kill -0 "$local_pid" 2>/dev/null; then
		echo "vegeta-vs-ddbops: ddbops local exited:" >&2
		cat "$tmp/local.log" >&2
		exit 1
	fi
	sleep 0.05
done
grep -q "ready on" "$tmp/local.log" || { echo "vegeta-vs-ddbops: ddbops local not ready" >&2; cat "$tmp/local.log" >&2; exit 1; }

# Create the ids once (a short create run over the same ids), so neither
# measured run pays for it.
"$tmp/ddbops" bench --url "$url" --api-key "$key" --op create --keys "$KEYS" --rate "$KEYS" --duration 1s --warmup 0 -q -o json >/dev/null

# The same bodies ddbops sends, as vegeta JSON targets (round robin).
python3 - "$url" "$key" "$KEYS" >"$tmp/targets.json" <<'PY'
import base64, json, sys
url, key, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
for i in range(1, n + 1):
    body = json.dumps({"operation": "read", "tableName": "lambda-apigateway",
                       "payload": {"Key": {"id": f"bench-{i}"}}}, separators=(",", ":"))
    print(json.dumps({"method": "POST", "url": url,
                      "body": base64.b64encode(body.encode()).decode(),
                      "header": {"Content-Type": ["application/json"], "Accept": ["application/json"],
                                 "X-Api-Key": [key]}}))
PY

timed() { # timed OUTFILE CMD... : runs CMD, writes "user sys" seconds to OUTFILE
	local out=$1
	shift
	/usr/bin/time -f "%U %S" -o "$out" "$@"
}

results="$tmp/results.tsv"
: >"$results"

run_ddbops() {
	local n=$1
	timed "$tmp/d$n.time" "$tmp/ddbops" bench --url "$url" --api-key "$key" --op read --keys "$KEYS" \
		--rate "$RATE" --duration "$DURATION" --workers "$WORKERS" --warmup 0 --seed=false -q -o json >"$tmp/d$n.json"
	python3 - "$tmp/d$n.json" "$tmp/d$n.time" "ddbops#$n" >>"$results" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
u, s = map(float, open(sys.argv[2]).read().split()[-2:])
print(f"{sys.argv[3]}\t{d['requests']}\t{d['rate']:.2f}\t{d['success']:.4f}\t{u+s:.3f}\t{u+s:.3f}\t{d['latency_ms']['p50']:.2f}\t{d['latency_ms']['p99']:.2f}")
PY
}

run_vegeta() {
	local n=$1
	timed "$tmp/v$n.time" "$tmp/vegeta" attack -format=json -targets="$tmp/targets.json" -rate="$RATE/1s" \
		-duration="$DURATION" -max-workers="$WORKERS" -output="$tmp/v$n.bin"
	timed "$tmp/v$n.rtime" "$tmp/vegeta" report -type=json -output="$tmp/v$n.json" "$tmp/v$n.bin"
	python3 - "$tmp/v$n.json" "$tmp/v$n.time" "$tmp/v$n.rtime" "vegeta#$n" >>"$results" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
u, s = map(float, open(sys.argv[2]).read().split()[-2:])
ru, rs = map(float, open(sys.argv[3]).read().split()[-2:])
lat = d["latencies"]
print(f"{sys.argv[4]}\t{d['requests']}\t{d['rate']:.2f}\t{d['success']:.4f}\t{u+s:.3f}\t{u+s+ru+rs:.3f}\t{lat['50th']/1e6:.2f}\t{lat['99th']/1e6:.2f}")
PY
}

echo "target: $url (apikey auth), read over $KEYS ids, $RATE req/s for $DURATION, ≤ $WORKERS workers" >&2
for r in $(seq 1 "$ROUNDS"); do
	if ((r % 2 == 1)); then
		run_ddbops "$r"
		run_vegeta "$r"
	else
		run_vegeta "$r"
		run_ddbops "$r"
	fi
done

python3 - "$results" "$RATE" <<'PY'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
rate = float(sys.argv[2])
print(f"{'run':<10} {'requests':>8} {'rate/s':>9} {'rate %':>7} {'success':>8} {'cpu s':>7} {'µs/req':>7} {'+report µs/req':>15} {'p50 ms':>7} {'p99 ms':>7}")
tot = {}
for name, req, r, succ, cpu, cpu_rep, p50, p99 in rows:
    req, r, succ, cpu, cpu_rep = int(req), float(r), float(succ), float(cpu), float(cpu_rep)
    per, per_rep = cpu / req * 1e6, cpu_rep / req * 1e6
    tool = name.split("#")[0]
    t = tot.setdefault(tool, [0, 0.0, 0.0, [], []])
    t[0] += req; t[1] += cpu; t[2] += cpu_rep; t[3].append(r / rate); t[4].append(succ)
    print(f"{name:<10} {req:>8} {r:>9.1f} {100*r/rate:>6.2f}% {100*succ:>7.2f}% {cpu:>7.3f} {per:>7.1f} {per_rep:>15.1f} {float(p50):>7.2f} {float(p99):>7.2f}")
d, v = tot["ddbops"], tot["vegeta"]
d_per, v_per, v_per_rep = d[1] / d[0], v[1] / v[0], v[2] / v[0]
print()
print(f"achieved rate: ddbops min {100*min(d[3]):.2f}% of requested, vegeta min {100*min(v[3]):.2f}%")
print(f"success:       ddbops min {100*min(d[4]):.2f}%, vegeta min {100*min(v[4]):.2f}%")
print(f"client CPU per request: ddbops {d_per*1e6:.1f} µs, vegeta attack {v_per*1e6:.1f} µs, vegeta attack+report {v_per_rep*1e6:.1f} µs")
print(f"ratio ddbops / vegeta attack:         {d_per / v_per:.2f}x")
print(f"ratio ddbops / vegeta attack+report:  {d_per / v_per_rep:.2f}x")
PY
