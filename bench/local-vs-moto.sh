#!/usr/bin/env bash
# local-vs-moto.sh — read throughput of `ddbops local` against moto_server's
# plain DynamoDB GetItem, on the same machine, with the same load tool
# (vegeta, at its maximum rate), in one run; printed as a ratio
# (docs/benchmarks.md#rules). Also prints where the local stack's CPU goes (pprof top) and how
# fast `ddbops local` starts on an empty data dir and on ones holding N items.
#
# It builds ddbops, vegeta and bench/localstartup into a temporary directory
# (nothing is committed), starts `ddbops local --auth none` on a free
# loopback port with the tutorial's item id=1, starts moto_server with the
# same table and item, then attacks each in turn:
#   local: POST /prod/DynamoDBManager with the tutorial's read body
#   moto:  POST / X-Amz-Target: DynamoDB_20120810.GetItem {"Key":{"id":{"S":"1"}}}
#          (with a well-formed but unsigned Authorization header: moto routes
#          on its credential scope and does not check signatures)
# Each attack is `vegeta attack -rate=0 -max-workers=$WORKERS -duration=$DURATION`
# writing results to a file; `vegeta report` runs after the attack so that it
# does not compete for the CPU. Besides throughput it prints the server's CPU
# time per request (user+system of the server process over the attack, from
# /proc): throughput depends on how much of the machine the run gets (other
# load, and vegeta's own ~80 µs per request), CPU per request much less. Order: local, moto, local, moto (ROUNDS=2), and
# the ratio uses the best round of each, so neither profits from going first
# on a machine whose load drifts.
#
# Usage: bench/local-vs-moto.sh           (from anywhere in the checkout)
# Environment: DURATION (10s), WORKERS (32), ROUNDS (2),
#              STARTUP_ITEMS (0,10000,100000; empty skips the startup part)
set -euo pipefail

DURATION=${DURATION:-10s}
WORKERS=${WORKERS:-32}
ROUNDS=${ROUNDS:-2}
STARTUP_ITEMS=${STARTUP_ITEMS-0,10000,100000}

bench_name=local-vs-moto
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
need go
need curl
need python3
need moto_server
[[ -x /usr/bin/time ]] || die "/usr/bin/time is required (apt-get install time)"

echo "building ddbops, vegeta and localstartup …" >&2
build_ddbops "$tmp/ddbops"
install_vegeta
(cd "$root" && go build -o "$tmp/localstartup" ./bench/localstartup)

# --- ddbops local, with a CPU profile of its serving phase ---
start_local local "$tmp/ddbops" --data-dir "$tmp/data" --auth none --cpuprofile "$tmp/local.prof"
local_url=$url
curl -sf -X POST -d '{"operation":"create","tableName":"lambda-apigateway","payload":{"Item":{"id":"1","name":"Bob"}}}' "$local_url" >/dev/null ||
	die "create on ddbops local failed"
local_read_targets "$local_url" "$tmp/local.targets"

# --- moto_server with the same table and item ---
moto_port=$(freeport)
moto_url="http://127.0.0.1:$moto_port/"
MOTO_ALLOW_NONEXISTENT_REGION=true moto_server -H 127.0.0.1 -p "$moto_port" >"$tmp/moto.log" 2>&1 &
moto_pid=$!
track "$moto_pid"
for _ in $(seq 1 600); do
	curl -sf -o /dev/null "${moto_url}moto-api/" && break
	kill -0 "$moto_pid" 2>/dev/null || { cat "$tmp/moto.log" >&2; die "moto_server exited"; }
	sleep 0.1
done
ddb_date="" # moto's requests carry no X-Amz-Date
ddb_seed "$moto_url" moto
ddb_get_targets "$moto_url" "$tmp/moto.targets"

# --- the attacks ---
results="$tmp/results.tsv"
: >"$results"
attack() { # attack NAME TARGETS SERVER_PID
	local name=$1 targets=$2 pid=$3 before after
	before=$(cputicks "$pid")
	/usr/bin/time -f "%U %S" -o "$tmp/$name.time" \
		"$tmp/vegeta" attack -targets="$targets" -rate=0 -max-workers="$WORKERS" -duration="$DURATION" -output="$tmp/$name.bin"
	after=$(cputicks "$pid")
	"$tmp/vegeta" report -type=json -output="$tmp/$name.report" "$tmp/$name.bin"
	python3 - "$tmp/$name.report" "$name" "$((after - before))" "$(getconf CLK_TCK)" "$tmp/$name.time" >>"$results" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
server_s = int(sys.argv[3]) / int(sys.argv[4])
u, s = map(float, open(sys.argv[5]).read().split()[-2:])
print(f"{sys.argv[2]}\t{d['requests']}\t{d['throughput']:.1f}\t{d['success']:.4f}\t{d['latencies']['50th']/1e6:.2f}\t{d['latencies']['99th']/1e6:.2f}\t{server_s:.2f}\t{u+s:.2f}\t{json.dumps(d['status_codes'])}")
PY
}
echo "attacking each for $DURATION at max rate with ≤ $WORKERS workers, $ROUNDS rounds …" >&2
load_before=$(cut -d' ' -f1 /proc/loadavg)
for r in $(seq 1 "$ROUNDS"); do
	attack "local#$r" "$tmp/local.targets" "$local_pid"
	attack "moto#$r" "$tmp/moto.targets" "$moto_pid"
done
load_after=$(cut -d' ' -f1 /proc/loadavg)

stop_local "$local_pid"

echo
echo "== read throughput: ddbops local (tutorial read through the gateway) vs moto_server (DynamoDB GetItem)"
echo "   $(nproc) CPUs, load average ${load_before} before, ${load_after} after"
python3 - "$results" <<'PY'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
print(f"{'run':<8} {'requests':>9} {'ok req/s':>10} {'success':>8} {'p50 ms':>8} {'p99 ms':>8} {'server µs/req':>14} {'vegeta µs/req':>14}  status codes")
best, cpu = {}, {}
for name, req, thr, succ, p50, p99, server_s, client_s, codes in rows:
    req = int(req)
    print(f"{name:<8} {req:>9} {float(thr):>10.1f} {100*float(succ):>7.2f}% {float(p50):>8.2f} {float(p99):>8.2f} {1e6*float(server_s)/req:>14.1f} {1e6*float(client_s)/req:>14.1f}  {codes}")
    tool = name.split("#")[0]
    if float(succ) < 0.99:
        sys.exit(f"local-vs-moto: {name} succeeded for only {100*float(succ):.2f}% of requests")
    best[tool] = max(best.get(tool, 0.0), float(thr))
    c = cpu.setdefault(tool, [0, 0.0])
    c[0] += req; c[1] += float(server_s)
ratio = best["local"] / best["moto"]
lcpu, mcpu = cpu["local"][1] / cpu["local"][0], cpu["moto"][1] / cpu["moto"][0]
print()
print(f"best throughput: ddbops local {best['local']:.1f} req/s, moto {best['moto']:.1f} req/s")
print(f"ratio local / moto (throughput):            {ratio:.1f}x")
print(f"server CPU per request: ddbops local {1e6*lcpu:.1f} µs, moto {1e6*mcpu:.1f} µs")
print(f"ratio moto / local (server CPU per request): {mcpu / lcpu:.1f}x")
PY

echo
echo "== where ddbops local's CPU goes (pprof, serving phase, top by cumulative time)"
(cd "$root" && go tool pprof -top -cum -nodecount=25 "$tmp/ddbops" "$tmp/local.prof" 2>/dev/null | sed -n '1,32p')

if [[ -n "$STARTUP_ITEMS" ]]; then
	echo
	echo "== ddbops local startup: exec to ready line, and to the first answered read"
	"$tmp/localstartup" -ddbops "$tmp/ddbops" -items "$STARTUP_ITEMS"
fi
