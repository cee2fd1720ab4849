#!/usr/bin/env bash
# local-cpu-per-read.sh — server CPU per read at a fixed rate, side by side
# in one run: `ddbops local` (the tutorial's read through the gateway) built
# from this checkout, optionally the same built at an older revision
# (BEFORE), and dynalite's plain DynamoDB GetItem (npm dynalite@4, in
# memory). The local stack must stay at or under half of dynalite's CPU per
# read at 2,000 req/s (docs/benchmarks.md).
#
# Each target gets RATE req/s for DURATION with vegeta (open loop), rounds
# interleaved (this, before, dynalite, this, before, dynalite, …) so none
# profits from going first on a machine whose load drifts. Server CPU is
# user+system time of the server process over the attack, from /proc; the
# figure per target is the sum over its rounds divided by its requests.
#
#   local:    POST /prod/DynamoDBManager {"operation":"read",...}, --auth none
#   dynalite: POST / X-Amz-Target: DynamoDB_20120810.GetItem (with a
#             well-formed unsigned Authorization: dynalite checks its shape,
#             not the signature)
#
# Usage: bench/local-cpu-per-read.sh      (from anywhere in the checkout)
# Environment: RATE (2000), DURATION (10s), ROUNDS (3), WORKERS (64),
#              BEFORE (a git revision; empty: skip), DYNALITE (path; default
#              as internal/testenv finds it: PATH, then $DDBOPS_NPM_PREFIX or
#              ~/.cache/ddbops/npm)
set -euo pipefail

RATE=${RATE:-2000}
DURATION=${DURATION:-10s}
ROUNDS=${ROUNDS:-3}
WORKERS=${WORKERS:-64}
BEFORE=${BEFORE:-}

bench_name=local-cpu-per-read
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
need go
need curl
need python3

dynalite=${DYNALITE:-}
if [[ -z "$dynalite" ]]; then
	dynalite=$(command -v dynalite || true)
	prefix=${DDBOPS_NPM_PREFIX:-${XDG_CACHE_HOME:-$HOME/.cache}/ddbops/npm}
	[[ -n "$dynalite" ]] || dynalite="$prefix/node_modules/.bin/dynalite"
fi
[[ -x "$dynalite" ]] || die "dynalite is not installed (npm install --prefix ${prefix:-DIR} dynalite@4)"

echo "building ddbops and vegeta …" >&2
build_ddbops "$tmp/ddbops"
install_vegeta
targets=(this)
if [[ -n "$BEFORE" ]]; then
	echo "building ddbops at $BEFORE …" >&2
	build_ddbops "$tmp/ddbops-before" "$BEFORE"
	targets+=(before)
fi
targets+=(dynalite)

declare -A pid_of

serve() { # serve NAME BINARY
	local name=$1 bin=$2
	start_local "$name" "$bin" --data-dir "$tmp/data-$name" --auth none
	curl -sf -X POST -d '{"operation":"create","tableName":"lambda-apigateway","payload":{"Item":{"id":"1","name":"Bob"}}}' "$url" >/dev/null ||
		die "create on ddbops local ($name) failed"
	local_read_targets "$url" "$tmp/$name.targets"
	pid_of[$name]=$local_pid
}

serve this "$tmp/ddbops"
[[ -n "$BEFORE" ]] && serve before "$tmp/ddbops-before"

port=$(freeport)
"$dynalite" --host 127.0.0.1 --port "$port" --createTableMs 0 >"$tmp/dynalite.log" 2>&1 &
pid_of[dynalite]=$!
track "${pid_of[dynalite]}"
dyn_url="http://127.0.0.1:$port/"
for _ in $(seq 1 400); do
	curl -s -o /dev/null "$dyn_url" && break
	kill -0 "${pid_of[dynalite]}" 2>/dev/null || { cat "$tmp/dynalite.log" >&2; die "dynalite exited"; }
	sleep 0.025
done
ddb_seed "$dyn_url" dynalite
ddb_get_targets "$dyn_url" "$tmp/dynalite.targets"

results="$tmp/results.tsv"
: >"$results"
echo "attacking ${targets[*]} at $RATE req/s for $DURATION each, $ROUNDS rounds …" >&2
load_before=$(cut -d' ' -f1 /proc/loadavg)
for r in $(seq 1 "$ROUNDS"); do
	for name in "${targets[@]}"; do
		pid=${pid_of[$name]}
		before_ticks=$(cputicks "$pid")
		"$tmp/vegeta" attack -targets="$tmp/$name.targets" -rate="$RATE" -max-workers="$WORKERS" -duration="$DURATION" -output="$tmp/$name-$r.bin"
		after_ticks=$(cputicks "$pid")
		"$tmp/vegeta" report -type=json -output="$tmp/$name-$r.report" "$tmp/$name-$r.bin"
		python3 - "$tmp/$name-$r.report" "$name" "$r" "$((after_ticks - before_ticks))" "$(getconf CLK_TCK)" >>"$results" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print(f"{sys.argv[2]}\t{sys.argv[3]}\t{d['requests']}\t{d['rate']:.1f}\t{d['success']:.4f}\t{d['latencies']['50th']/1e6:.2f}\t{d['latencies']['99th']/1e6:.2f}\t{int(sys.argv[4])/int(sys.argv[5]):.2f}")
PY
	done
done
load_after=$(cut -d' ' -f1 /proc/loadavg)

echo
echo "== server CPU per read at $RATE req/s: ddbops local (tutorial read through the gateway) vs dynalite (GetItem)"
echo "   $(nproc) CPUs, load average ${load_before} before, ${load_after} after; before = ${BEFORE:-(not measured)}"
python3 - "$results" <<'PY'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
print(f"{'target':<9} {'round':>5} {'requests':>9} {'rate':>8} {'success':>8} {'p50 ms':>7} {'p99 ms':>7} {'server µs/req':>14}")
tot = {}
for name, rnd, req, rate, succ, p50, p99, cpu in rows:
    req, cpu = int(req), float(cpu)
    print(f"{name:<9} {rnd:>5} {req:>9} {float(rate):>8.1f} {100*float(succ):>7.2f}% {float(p50):>7.2f} {float(p99):>7.2f} {1e6*cpu/req:>14.1f}")
    if float(succ) < 0.99:
        sys.exit(f"local-cpu-per-read: {name} round {rnd} succeeded for only {100*float(succ):.2f}% of requests")
    t = tot.setdefault(name, [0, 0.0])
    t[0] += req; t[1] += cpu
print()
per = {k: 1e6 * v[1] / v[0] for k, v in tot.items()}
for k in ("this", "before", "dynalite"):
    if k in per:
        print(f"server CPU per read, {k:<8}: {per[k]:7.1f} µs")
print(f"ratio this / dynalite:   {per['this'] / per['dynalite']:.2f}  (must stay ≤ 0.5)")
if "before" in per:
    print(f"ratio this / before:     {per['this'] / per['before']:.2f}")
PY
