# bench/lib.sh — what the bench scripts share: building ddbops and the
# vegeta CLI, a free port, starting and stopping `ddbops local`, server
# CPU ticks, and plain DynamoDB calls to an emulator (dynalite, moto).
#
# Source it after setting bench_name (the prefix of every error message):
#
#   bench_name=local-store
#   source "$(dirname "$0")/lib.sh"
#
# It sets root (the checkout) and tmp (a fresh temporary directory), and
# installs an EXIT trap that kills every process given to track, runs the
# script's bench_on_exit function if it defines one, and removes $tmp.
# Not a script of its own: nothing here runs when it is sourced but the
# setup above.

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tmp=$(mktemp -d)
tracked=()

bench_cleanup() {
	local p
	for p in "${tracked[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	if declare -F bench_on_exit >/dev/null; then
		bench_on_exit
	fi
	rm -rf "$tmp"
}
trap bench_cleanup EXIT

die() { echo "$bench_name: $*" >&2; exit 1; }
need() { command -v "$1" >/dev/null || die "$1 is required"; }

# track PID: kill PID (if still running) when the script exits; untrack
# PID once the script has waited for it, so that a reused PID is spared.
track() { tracked+=("$1"); }
untrack() {
	local p keep=()
	for p in "${tracked[@]}"; do
		[[ $p == "$1" ]] || keep+=("$p")
	done
	tracked=("${keep[@]}")
}

# build_ddbops OUT [REV]: builds ./cmd/ddbops of this checkout, or of the
# git revision REV (from `git archive`, in a directory of its own), to OUT.
build_ddbops() {
	local out=$1 rev=${2:-}
	if [[ -z "$rev" ]]; then
		(cd "$root" && go build -o "$out" ./cmd/ddbops)
		return
	fi
	local src
	src=$(mktemp -d "$tmp/src-XXXXXX")
	(cd "$root" && git archive "$rev") | tar -x -C "$src"
	(cd "$src" && go build -o "$out" ./cmd/ddbops)
}

# install_vegeta: the vegeta CLI at the version go.mod pins for its
# library, built outside this module (go.mod requires only the library's
# packages), as $tmp/vegeta.
install_vegeta() {
	local version
	version=$(cd "$root" && go list -m -f '{{.Version}}' github.com/tsenart/vegeta/v12)
	GOBIN="$tmp" go install "github.com/tsenart/vegeta/v12@$version"
}

freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# cputicks PID: user+system clock ticks of a process.
cputicks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# start_local NAME BIN ARGS...: starts `BIN local --addr 127.0.0.1:0 -o json
# ARGS...` with its output in $tmp/NAME.json and $tmp/NAME.log, waits up to
# 60 s for its ready document, and sets local_pid and url.
start_local() {
	local name=$1 bin=$2
	shift 2
	"$bin" local --addr 127.0.0.1:0 -o json "$@" >"$tmp/$name.json" 2>"$tmp/$name.log" &
	local_pid=$!
	track "$local_pid"
	local i
	for ((i = 0; i < 2400; i++)); do
		grep -q '"startupMs"' "$tmp/$name.json" 2>/dev/null && break
		kill -0 "$local_pid" 2>/dev/null || { cat "$tmp/$name.log" >&2; die "ddbops local ($name) exited"; }
		sleep 0.025
	done
	grep -q '"startupMs"' "$tmp/$name.json" || die "ddbops local ($name) not ready after 60s"
	url=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["url"])' "$tmp/$name.json")
}

# stop_local [PID]: SIGTERM, which must end ddbops local with exit 0.
stop_local() {
	local pid=${1:-$local_pid}
	kill -TERM "$pid"
	wait "$pid" || die "ddbops local did not stop cleanly"
	untrack "$pid"
}

# Plain DynamoDB calls to an emulator: a well-formed but unsigned SigV4
# Authorization (dynalite checks its shape, moto routes on its credential
# scope; neither checks the signature). ddb_date is sent as X-Amz-Date
# unless it is empty.
ddb_auth="Authorization: AWS4-HMAC-SHA256 Credential=AKIDLOCALBENCH/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=0"
ddb_date=20240101T000000Z

# ddb URL OPERATION BODY: one DynamoDB call; the answer on stdout.
ddb() {
	local date=()
	[[ -z "$ddb_date" ]] || date=(-H "X-Amz-Date: $ddb_date")
	curl -sf -X POST -H "Content-Type: application/x-amz-json-1.0" -H "$ddb_auth" "${date[@]}" \
		-H "X-Amz-Target: DynamoDB_20120810.$2" -d "$3" "$1"
}

# ddb_seed URL WHAT: the tutorial's table and its item id=1 (name Bob) on
# the emulator WHAT at URL, checked with a GetItem.
ddb_seed() {
	local u=$1 what=$2
	ddb "$u" CreateTable '{"TableName":"lambda-apigateway","AttributeDefinitions":[{"AttributeName":"id","AttributeType":"S"}],"KeySchema":[{"AttributeName":"id","KeyType":"HASH"}],"BillingMode":"PAY_PER_REQUEST"}' >/dev/null ||
		die "$what CreateTable failed"
	ddb "$u" PutItem '{"TableName":"lambda-apigateway","Item":{"id":{"S":"1"},"name":{"S":"Bob"}}}' >/dev/null || die "$what PutItem failed"
	ddb "$u" GetItem '{"TableName":"lambda-apigateway","Key":{"id":{"S":"1"}}}' | grep -q Bob || die "$what GetItem does not find the item"
}

# ddb_get_targets URL OUT: vegeta targets (http format) of the GetItem of
# id=1 at URL, in OUT.
ddb_get_targets() {
	printf '{"TableName":"lambda-apigateway","Key":{"id":{"S":"1"}}}' >"$tmp/get.json"
	{
		printf 'POST %s\nContent-Type: application/x-amz-json-1.0\n%s\n' "$1" "$ddb_auth"
		[[ -z "$ddb_date" ]] || printf 'X-Amz-Date: %s\n' "$ddb_date"
		printf 'X-Amz-Target: DynamoDB_20120810.GetItem\n@%s\n' "$tmp/get.json"
	} >"$2"
}

# local_read_targets URL OUT: vegeta targets (http format) of the
# tutorial's read of id=1 through ddbops local at URL, in OUT.
local_read_targets() {
	printf '{"operation":"read","tableName":"lambda-apigateway","payload":{"Key":{"id":"1"}}}' >"$tmp/read.json"
	printf 'POST %s\nContent-Type: application/json\n@%s\n' "$1" "$tmp/read.json" >"$2"
}
