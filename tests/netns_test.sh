#!/usr/bin/env bash
# netns_test.sh — the multi-host path for real on one machine: 3 network namespaces as hosts
# (scripts/netns-hosts.sh), links shaped with tc tbf, mpi_dp_test with one rank per namespace
# launched through the rsh agent scripts/netns-rsh; then a 1 MiB ping-pong over a 50 Mbit/s
# link must not beat the shaping (both directions shaped). Everything it creates is removed on
# exit. Exits 77 (skipped) where namespaces cannot be made: not root, no ip netns / veth /
# bridge / tc tbf / unshare (e.g. an unprivileged container).
#
#   netns_test.sh SOURCE_DIR MPI_DP_TEST NETNS_ALLREDUCE [MPIEXEC]
set -euo pipefail

[ $# -ge 3 ] || { echo "usage: $0 SOURCE_DIR MPI_DP_TEST NETNS_ALLREDUCE [MPIEXEC]" >&2; exit 2; }
src=$1 dp_test=$2 allreduce=$3 mpiexec=${4:-mpiexec}
hosts_sh="$src/scripts/netns-hosts.sh"
agent="$src/scripts/netns-rsh"

skip() { echo "netns_test: SKIP: $*"; exit 77; }
fail() { echo "netns_test: FAIL: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces)"
why=$(bash "$hosts_sh" check 2>&1) || skip "$why"
[ -x "$agent" ] || fail "$agent is not executable (OpenMPI execs the agent)"
command -v "$mpiexec" >/dev/null 2>&1 || fail "no mpiexec ('$mpiexec')"
[ -x "$dp_test" ] && [ -x "$allreduce" ] || fail "test programs not built: $dp_test $allreduce"

# A prefix and a /24 of our own, so that concurrent runs (other build trees) do not clash.
prefix="dt$$x"
subnet=""
for k in $(seq 0 49); do
    c="10.78.$(( ($$ + k) % 200 + 20 ))"
    ip -o -4 addr show | awk '{print $4}' | grep -q "^${c//./\\.}\." || { subnet=$c; break; }
done
[ -n "$subnet" ] || skip "no free 10.78.x.0/24 subnet"
hostfile=$(mktemp "${TMPDIR:-/tmp}/netns_test.XXXXXX")
out=$(mktemp "${TMPDIR:-/tmp}/netns_test_out.XXXXXX")

cleanup() {
    bash "$hosts_sh" down --prefix "$prefix" --hostfile "$hostfile" --kill >/dev/null 2>&1 || true
    rm -f "$hostfile" "$out" "$out.err"
    if ip netns list 2>/dev/null | grep -qE "^${prefix}[0-9]"; then
        echo "netns_test: warning: namespaces of $prefix left behind" >&2
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1

# Host 1 is the slow one: 50 Mbit/s; the others 1 Gbit/s.
args=$(bash "$hosts_sh" up --prefix "$prefix" --hosts 3 --subnet "$subnet" --hostfile "$hostfile" \
       --rate 1000 --link 1:50:0) || fail "netns-hosts.sh up failed"
echo "netns_test: hosts ${prefix}0..2 on $subnet.0/24; mpiexec $args"
# shellcheck disable=SC2206
argv=($args)

# 1. One daemon per namespace, each with its own hostname.
# (stderr apart: OpenMPI's launcher sometimes warns there, e.g. "plm:rsh: Warning: setpgid
# ... failed", a race in its rsh launcher that does not affect the ranks)
timeout 60 "$mpiexec" "${argv[@]}" -n 3 hostname >"$out" 2>"$out.err" || { cat "$out" "$out.err"; fail "mpiexec hostname failed"; }
names=$(sort "$out" | tr '\n' ' ')
[ "$names" = "${prefix}0 ${prefix}1 ${prefix}2 " ] || { cat "$out" "$out.err"; fail "ranks ran on '$names', expected one per namespace"; }
echo "netns_test: ranks on $names"

# 2. Data-parallel training across the 3 hosts; traffic must cross the shaped links.
sent() { tc -s qdisc show dev "${prefix}v1" | awk '/Sent/ {s += $2} END {print s + 0}'; }
before=$(sent)
timeout 90 "$mpiexec" "${argv[@]}" -n 3 "$dp_test" >"$out" 2>&1 || { cat "$out"; fail "mpi_dp_test failed across namespaces"; }
grep -m1 "worst relative loss" "$out" || true
[ "$(grep -c '^passed' "$out" || true)" -ge 1 ] || { cat "$out"; fail "mpi_dp_test did not report success"; }
crossed=$(( $(sent) - before ))
[ "$crossed" -gt 10000 ] || fail "only $crossed bytes went through ${prefix}v1: ranks did not talk over the links"
echo "netns_test: mpi_dp_test passed on 3 namespaced hosts ($crossed bytes into ${prefix}1 through tc)"

# 3. The shaping is real in both directions: ranks 0,1 on hosts 0 and 1 (50 Mbit/s).
head -2 "$hostfile" >"$hostfile.2"
argv2=("${argv[@]}"); for i in "${!argv2[@]}"; do [ "${argv2[$i]}" = "$hostfile" ] && argv2[i]="$hostfile.2"; done
rc=0
timeout 60 "$mpiexec" "${argv2[@]}" -n 2 "$allreduce" --reps 3 --floats 100000 --max-mbit 60 >"$out" 2>&1 || rc=$?
rm -f "$hostfile.2"
cat "$out"
[ $rc -eq 0 ] || fail "netns_allreduce over the 50 Mbit/s link failed (rc $rc)"
echo "netns_test: PASS"
