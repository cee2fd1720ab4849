#!/usr/bin/env bash
# local-hardening.sh — `ddbops local` under the attacks docs/local-security.md
# defends against, measured against the real binary (bench/localhardening):
# 400 idle connections under prlimit --nofile=256, a flood of 20,000
# connections, 400 stalled 1 MiB bodies under --auth iam with a garbage
# Authorization (peak resident memory), cross-site POSTs (foreign Origin,
# foreign Host). Prints one block of figures per binary.
#
# BEFORE=<git rev> also builds ddbops at that revision and measures it first,
# side by side (e.g. BEFORE=main~1, or the commit before the hardening).
#
# Usage: bench/local-hardening.sh            (from anywhere in the checkout)
# Environment: BEFORE (none), FLOOD (20000)
set -euo pipefail

FLOOD=${FLOOD:-20000}
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "building ddbops …" >&2
(cd "$root" && go build -o "$tmp/ddbops" ./cmd/ddbops && go build -o "$tmp/localhardening" ./bench/localhardening)
before=()
if [[ -n "${BEFORE:-}" ]]; then
	echo "building ddbops at $BEFORE …" >&2
	mkdir "$tmp/before-src"
	(cd "$root" && git archive "$BEFORE") | tar -x -C "$tmp/before-src"
	(cd "$tmp/before-src" && go build -o "$tmp/ddbops-before" ./cmd/ddbops)
	before=(-before "$tmp/ddbops-before")
fi
"$tmp/localhardening" -ddbops "$tmp/ddbops" -flood "$FLOOD" "${before[@]}"
