#!/usr/bin/env bash
# soak/run.sh — `ddbops local` under a steady mixed load for a long time
# (docs/benchmarks.md): does latency drift, does memory grow, do errors appear?
#
# It builds ddbops into a temporary directory (nothing is committed),
# starts `ddbops local --auth apikey` on a free loopback port with a fresh
# data dir, creates the ids bench-1 … bench-$CREATE_KEYS, then runs four
# open-loop `ddbops bench` loads at the same time for $DURATION, each at a
# modest constant rate:
#   read    $READ_RATE/s   over bench-1 … bench-100
#   update  $UPDATE_RATE/s over bench-1 … bench-100 (SET #n = :n)
#   create  $CREATE_RATE/s over bench-1 … bench-$CREATE_KEYS (overwrites)
#   list    $LIST_RATE/s   (one page of 10)
# Each load runs as back-to-back `ddbops bench --duration $SEGMENT`
# segments, so every segment has its own latency percentiles: the first
# segment is "start", the last one "end". Meanwhile the server's RSS
# (VmRSS from /proc/<pid>/status) and the size of the database file
# (data.db) are sampled every $SAMPLE seconds; at the end the server is
# stopped with SIGTERM (it must exit 0) and started again on the same data
# dir to show what the grown database costs at the next start.
#
# Usage: bench/soak/run.sh              (from anywhere in the checkout)
# Environment: DURATION (10m; s, m or h suffix, or plain seconds),
#              SEGMENT (60s), SAMPLE (10s),
#              READ_RATE (100), UPDATE_RATE (40), CREATE_RATE (40),
#              LIST_RATE (20), CREATE_KEYS (2000),
#              OUT (directory to keep the raw results in; default: none)
# Needs: go, python3.
set -euo pipefail

seconds() { # 10m → 600, 90s → 90, 1h → 3600, 42 → 42
	local v=$1
	case $v in
	*h) echo $((${v%h} * 3600)) ;;
	*m) echo $((${v%m} * 60)) ;;
	*s) echo "${v%s}" ;;
	*) echo "$v" ;;
	esac
}
DURATION_S=$(seconds "${DURATION:-10m}")
SEGMENT_S=$(seconds "${SEGMENT:-60s}")
SAMPLE_S=$(seconds "${SAMPLE:-10s}")
READ_RATE=${READ_RATE:-100}
UPDATE_RATE=${UPDATE_RATE:-40}
CREATE_RATE=${CREATE_RATE:-40}
LIST_RATE=${LIST_RATE:-20}
CREATE_KEYS=${CREATE_KEYS:-2000}
API_KEY=soak-api-key-0123456789abcdef

bench_name=soak
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/../lib.sh"
need go
need python3
[[ $DURATION_S =~ ^[0-9]+$ && $DURATION_S -gt 0 ]] || die "DURATION ${DURATION:-}: want e.g. 10m, 90s or 600"
[[ $SEGMENT_S =~ ^[0-9]+$ && $SEGMENT_S -gt 0 ]] || die "SEGMENT ${SEGMENT:-}: want e.g. 60s"
[[ $SAMPLE_S =~ ^[0-9]+$ && $SAMPLE_S -gt 0 ]] || die "SAMPLE ${SAMPLE:-}: want e.g. 10s"

# The raw results, kept when OUT is set.
bench_on_exit() {
	if [[ -n "${OUT:-}" ]]; then
		mkdir -p "$OUT" && cp -r "$tmp/results" "$tmp"/*.log "$tmp"/*.tsv "$OUT"/ 2>/dev/null || true
	fi
}

echo "soak: building ddbops …" >&2
build_ddbops "$tmp/ddbops"
ddbops="$tmp/ddbops"
data="$tmp/data"
mkdir -p "$tmp/results"

# start_soak LOGNAME: starts ddbops local on $data, sets local_pid and url.
start_soak() { start_local "$1" "$ddbops" --data-dir "$data" --auth apikey --api-key "$API_KEY"; }
start_soak local

bench() { # bench OP RATE DURATION_S KEYS OUTFILE
	"$ddbops" bench --url "$url" --auth apikey --api-key "$API_KEY" --op "$1" --rate "$2" \
		--duration "${3}s" --keys "$4" --seed=false --warmup 0 -q -o json >"$5" 2>>"$tmp/bench.log"
}

echo "soak: creating bench-1 … bench-$CREATE_KEYS …" >&2
seed_s=$(((CREATE_KEYS + 499) / 500))
bench create 500 "$seed_s" "$CREATE_KEYS" "$tmp/results/seed.json"
python3 - "$tmp/results/seed.json" <<'PY' || die "seeding failed"
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if d["success"] == 1 else 1)
PY

db="$data/data.db"
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$local_pid/status"; }
size() { stat -c %s "$1"; }
echo -e "t_s\trss_kb\tdb_bytes" >"$tmp/samples.tsv"
t0=$(date +%s)
cp /proc/loadavg "$tmp/loadavg.start"
echo -e "0\t$(rss_kb)\t$(size "$db")" >>"$tmp/samples.tsv"
(
	while sleep "$SAMPLE_S"; do
		kill -0 "$local_pid" 2>/dev/null || exit 0
		echo -e "$(($(date +%s) - t0))\t$(rss_kb)\t$(size "$db")" >>"$tmp/samples.tsv"
	done
) &
sampler_pid=$!
track "$sampler_pid"

segments=$(((DURATION_S + SEGMENT_S - 1) / SEGMENT_S))
echo "soak: read $READ_RATE/s, update $UPDATE_RATE/s, create $CREATE_RATE/s, list $LIST_RATE/s for ${DURATION_S}s ($segments segments of ≤ ${SEGMENT_S}s) → $url" >&2
load() { # load OP RATE KEYS
	local left=$DURATION_S i=1 d
	while ((left > 0)); do
		d=$((left < SEGMENT_S ? left : SEGMENT_S))
		bench "$1" "$2" "$d" "$3" "$tmp/results/$1.$(printf %03d $i).json"
		left=$((left - d))
		i=$((i + 1))
	done
}
load_pids=()
load read "$READ_RATE" 100 &
load_pids+=($!)
load update "$UPDATE_RATE" 100 &
load_pids+=($!)
load create "$CREATE_RATE" "$CREATE_KEYS" &
load_pids+=($!)
load list "$LIST_RATE" 100 &
load_pids+=($!)
for p in "${load_pids[@]}"; do track "$p"; done
load_failed=0
for p in "${load_pids[@]}"; do
	wait "$p" || load_failed=1
done
cp /proc/loadavg "$tmp/loadavg.end"
kill "$sampler_pid" 2>/dev/null || true
wait "$sampler_pid" 2>/dev/null || true
echo -e "$(($(date +%s) - t0))\t$(rss_kb)\t$(size "$db")" >>"$tmp/samples.tsv"
((load_failed == 0)) || { cat "$tmp/bench.log" >&2; die "a ddbops bench run failed"; }

# Stop cleanly, then start again on the grown database.
kill -TERM "$local_pid"
stop_code=0
wait "$local_pid" || stop_code=$?
untrack "$local_pid"
db_end=$(size "$db")
start_soak restart
kill -TERM "$local_pid"
wait "$local_pid" || true
untrack "$local_pid"

python3 - "$tmp" "$stop_code" "$db_end" <<'PY'
import glob, json, os, sys
tmp, stop_code, db_end = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ops = ["read", "update", "create", "list"]
runs = {op: [json.load(open(f)) for f in sorted(glob.glob(f"{tmp}/results/{op}.*.json"))] for op in ops}

def errors(d):  # transport errors and non-2xx answers
    return sum(e["count"] for e in d["errors"])

kinds = {}
for rs in runs.values():
    for d in rs:
        for e in d["errors"]:
            kinds[e["error"]] = kinds.get(e["error"], 0) + e["count"]

print(f"{'op':<7} {'rate/s':>7} {'requests':>9} {'errors':>7} {'p99 start':>10} {'p99 end':>9} {'drift':>7} {'p50 start':>10} {'p50 end':>8} {'worst p99':>10}")
total_req = total_err = 0
for op in ops:
    rs = runs[op]
    if not rs:
        continue
    req = sum(d["requests"] for d in rs)
    err = sum(errors(d) for d in rs)
    total_req += req
    total_err += err
    first, last = rs[0], rs[-1]
    p99s, p99e = first["latency_ms"]["p99"], last["latency_ms"]["p99"]
    worst = max(d["latency_ms"]["p99"] for d in rs)
    rate = sum(d["rate"] for d in rs) / len(rs)
    print(f"{op:<7} {rate:>7.1f} {req:>9} {err:>7} {p99s:>8.2f}ms {p99e:>7.2f}ms {p99e / p99s:>6.2f}x "
          f"{first['latency_ms']['p50']:>8.2f}ms {last['latency_ms']['p50']:>6.2f}ms {worst:>8.2f}ms")
print(f"all     {'':>7} {total_req:>9} {total_err:>7}   (errors: non-2xx answers and transport errors)")

codes = {}
for rs in runs.values():
    for d in rs:
        for c, n in d["status_codes"].items():
            codes[c] = codes.get(c, 0) + n
print("status codes:", json.dumps(dict(sorted(codes.items()))))
if kinds:
    print("errors:", json.dumps(kinds))

rows = [r for r in (l.split("\t") for l in open(f"{tmp}/samples.tsv").read().splitlines()[1:]) if len(r) == 3 and all(r)]
t = [int(r[0]) for r in rows]
rss = [int(r[1]) for r in rows]
jb = [int(r[2]) for r in rows]
dur = max(t) or 1
first_min = [r for tt, r in zip(t, rss) if tt <= 60]
last_min = [r for tt, r in zip(t, rss) if tt >= dur - 60]
print(f"RSS of ddbops local ({len(rss)} samples): before the load {rss[0]/1024:.1f} MiB, "
      f"first minute max {max(first_min)/1024:.1f} MiB, last minute max {max(last_min)/1024:.1f} MiB, "
      f"end {rss[-1]/1024:.1f} MiB; min {min(rss)/1024:.1f} MiB, max {max(rss)/1024:.1f} MiB; "
      f"growth first→last minute {(max(last_min) - max(first_min))/1024:+.1f} MiB")
writes = sum(d["requests"] for op in ("update", "create") for d in runs[op])
growth = db_end - jb[0]
print(f"database file: {jb[0]/1e6:.2f} MB → {db_end/1e6:.2f} MB (+{growth/1e6:.2f} MB, {growth/max(writes,1):.0f} bytes per write, "
      f"{growth/dur*3600/1e6:.0f} MB/h at this write rate)")
print(f"SIGTERM after the load: exit {stop_code}")
restart = json.load(open(f"{tmp}/restart.json"))
print(f"restart on the grown database: ready in {restart['startupMs']} ms, {restart['items']} items")
print(f"load average (1 min) at start and end: {open(f'{tmp}/loadavg.start').read().split()[0]} → {open(f'{tmp}/loadavg.end').read().split()[0]}")
print("p99 per segment (ms):")
for op in ops:
    print(f"  {op:<7}", " ".join(f"{d['latency_ms']['p99']:.1f}" for d in runs[op]))
PY
