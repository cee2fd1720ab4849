#!/usr/bin/env bash
# coldstart.sh — the handler's cold start against Python + boto3's import and
# client creation, on the same machine, in one run, printed as a ratio
# (docs/benchmarks.md#rules). It packages the handler for this machine's architecture with
# `ddbops package` (exactly the zip Lambda would get), extracts bootstrap,
# and runs bench/coldstart, which measures exec → first Runtime API poll for
# both, alternating runs.
#
# Usage: bench/coldstart.sh            Environment: N (20), PYTHON (python3)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
case "$(uname -m)" in
	x86_64 | amd64) arch=x86_64 ;;
	aarch64 | arm64) arch=arm64 ;;
	*) echo "coldstart: unsupported machine $(uname -m)" >&2; exit 1 ;;
esac
"${PYTHON:-python3}" -c 'import boto3' 2>/dev/null || { echo "coldstart: ${PYTHON:-python3} has no boto3" >&2; exit 1; }
cd "$root"
go run ./cmd/ddbops package -q --arch "$arch" --out "$tmp/bootstrap.zip" >/dev/null
(cd "$tmp" && unzip -q bootstrap.zip)
go build -o "$tmp/coldstart" ./bench/coldstart
"$tmp/coldstart" -bootstrap "$tmp/bootstrap" -n "${N:-20}" -python "${PYTHON:-python3}"
