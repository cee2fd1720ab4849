#!/usr/bin/env bash
# no-orphans.sh — no test leaves a process behind when `go test` is
# interrupted. It runs the packages that start moto_server and the Lambda
# RIE, interrupts `go test` once both are up, the ways a developer or CI
# does (SIGINT to the go command; SIGINT, SIGTERM or SIGKILL to its whole
# process group, as Ctrl-C, timeout(1) and timeout -s KILL do), and fails
# when any process the tests started is still there shortly after.
# The tests' processes are found by a tag in their environment, so nothing
# else on the machine is looked at or touched. Linux only (/proc).
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(./internal/parity/ ./internal/runtimetest/)
export DDBOPS_REQUIRE_EMULATORS=1
echo "== no test leaves a process behind (interrupted go test ${pkgs[*]})"
go test -count=1 -run '^$' "${pkgs[@]}" >/dev/null # compile once, outside the timed part

# tagged TAG prints "pid command" for every live process (not a zombie)
# whose environment holds DDBOPS_ORPHAN_TAG=TAG.
tagged() {
	local e pid st
	for e in $(grep -lszx "DDBOPS_ORPHAN_TAG=$1" /proc/[0-9]*/environ); do
		pid=${e#/proc/}
		pid=${pid%/environ}
		st=$({ sed 's/.*) //' "/proc/$pid/stat" | cut -d' ' -f1; } 2>/dev/null) || continue
		[ -n "$st" ] && [ "$st" != Z ] || continue
		echo "$pid $({ tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | cut -c1-160)"
	done
}

failed=0
for how in "INT go" "INT group" "TERM group" "KILL group"; do
	read -r sig target <<<"$how"
	tag="ddbops-orphans-$$-$sig-$target"
	# setsid: go test leads a process group of its own, as a shell's
	# foreground job does; setsid execs it, so $! is go's pid.
	DDBOPS_ORPHAN_TAG=$tag setsid go test -count=1 "${pkgs[@]}" >/dev/null 2>&1 &
	gopid=$!
	seen=""
	for _ in $(seq 1500); do # up to 5 minutes for both emulators to be up
		now=$(tagged "$tag")
		if grep -q moto_server <<<"$now" && grep -q aws-lambda-rie <<<"$now"; then
			seen=yes
			break
		fi
		kill -0 "$gopid" 2>/dev/null || break
		sleep 0.2
	done
	if [ -z "$seen" ]; then
		echo "FAIL $how: the tests never had moto_server and aws-lambda-rie running at once; nothing proved" >&2
		failed=1
		kill -KILL -"$gopid" 2>/dev/null || true
		wait "$gopid" 2>/dev/null || true
		continue
	fi
	if [ "$target" = go ]; then
		kill -"$sig" "$gopid"
	else
		kill -"$sig" -"$gopid"
	fi
	wait "$gopid" 2>/dev/null || true
	left=""
	for _ in $(seq 100); do # up to 20 s for everything to be gone
		left=$(tagged "$tag")
		[ -z "$left" ] && break
		sleep 0.2
	done
	if [ -n "$left" ]; then
		echo "FAIL $how: left behind:" >&2
		echo "$left" >&2
		failed=1
		# They carry this run's tag: ours to end.
		awk '{print $1}' <<<"$left" | xargs -r kill -KILL 2>/dev/null || true
	else
		echo "ok   SIG$sig to the $target: every process the tests started is gone"
	fi
done
exit "$failed"
