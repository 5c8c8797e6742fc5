#!/usr/bin/env bash
# calibrate_test.sh — `deepedge calibrate`: its usage and refusals; a fit that fails leaves
# every catalog file byte for byte as it was (no staging folder left) and names the device,
# the model and the cells; --fit-only on the shipped traces rewrites the emulated types and
# writes the link cfg; `calibrate --quick` end to end on a copy of the catalog: the device
# files change, carry this host as measured_cpu / measured_cores and the provenance, and
# `deepedge sim` on a scenario using them does not warn "measured on another host".
#
# usage: calibrate_test.sh PATH_TO_deepedge SOURCE_DIR
# Prints one line per check, then "N passed, M failed"; exits non-zero on any failure.
set -u

if [ $# -ne 2 ]; then
    echo "usage: $0 PATH_TO_deepedge SOURCE_DIR" >&2
    exit 2
fi
DE=$1
SRC=$2

. "$(dirname "$0")/lib.sh"
de_test_begin calibrate
de_test_on_fail() { de_test_show_last; }
err_has() { grep -q -- "$1" "$T/err"; }
out_has() { grep -q -- "$1" "$T/out"; }
no_staging() { ! ls -d "$1"/.calibrate-* >/dev/null 2>&1; }

# ---- usage ----
run "$DE" calibrate --frobnicate
check "unknown option exits 1" rc_is 1
check "unknown option: message" err_has "unknown option"
run "$DE" calibrate --types x86-v100 --catalog "$SRC/models" --out "$T/o0"
check "--types of a physical type exits 1" rc_is 1
check "--types of a physical type: named" err_has "x86-v100 is a physical device type"
run "$DE" calibrate --types nope --catalog "$SRC/models" --out "$T/o0"
check "--types of an unknown type: named" err_has "'nope' is not a device type"
run "$DE" calibrate --quick --fit-only
check "--quick with --fit-only exits 1" rc_is 1

# ---- a failing fit leaves the catalog as it was ----
cp -r "$SRC/models" "$T/cat"
mkdir -p "$T/tr"
cp "$SRC/traces/measured/host-step.csv" "$T/tr/host-step.csv"
cp "$SRC/traces/measured/host-resnet50-step.csv" "$T/tr/host-resnet50-ft-step.csv"
cp "$SRC/traces/measured/host-allreduce.csv" "$T/tr/host-allreduce.csv"
# emu-cpu-050 keeps one lc row: too few points for any fit.
awk -F, '$1 != "emu-cpu-050" || ++n == 1' "$SRC/traces/measured/host-lc.csv" >"$T/tr/host-lc.csv"
cp -r "$T/cat" "$T/cat-before"
run "$DE" calibrate --fit-only --catalog "$T/cat" --traces "$T/tr" --out "$T/o1"
check "a failing fit exits 1" rc_is 1
check "the failure names the device and the model" err_has "emu-cpu-050, model lc, entry edgenet-s"
check "the failure names the cells" err_has "cells: 1 rows of $T/tr/host-lc.csv: line"
check "the failure says the catalog is unchanged" err_has "is left as it was"
check "every catalog file is byte for byte as it was" diff -r "$T/cat-before" "$T/cat"
check "no staging folder is left" no_staging "$T/cat"
check "the report says it failed" grep -q "FAILED — the catalog is unchanged" "$T/o1/calibration.md"

# ---- --fit-only on the shipped traces ----
cp "$SRC/traces/measured/host-lc.csv" "$T/tr/host-lc.csv"
run "$DE" calibrate --fit-only --catalog "$T/cat" --traces "$T/tr" --out "$T/o2"
check "--fit-only on the shipped traces exits 0" rc_is 0
check "it prints the quality table" out_has "| emu-cpu-050 | edgenet-s | lc | 18 |"
check "per rank count all-reduce fits" out_has "| host-shm | 3 ranks | allreduce |"
check "the link cfg is in the catalog" grep -q "bandwidth_mbps" "$T/cat/links/host-shm.cfg"
check "the link cfg keeps alpha and beta per rank count" grep -q "ranks = 4;" "$T/cat/links/host-shm.cfg"
check "the emulated types changed" bash -c "! cmp -s '$SRC/models/devices/emu-cpu-050.cfg' '$T/cat/devices/emu-cpu-050.cfg'"
check "other types did not" cmp "$SRC/models/devices/x86-v100.cfg" "$T/cat/devices/x86-v100.cfg"
check "no staging folder is left" no_staging "$T/cat"
run "$DE" scenario catalog "$T/cat"
check "the calibrated catalog loads" rc_is 0
# A scenario whose links name the measured class: it plans with the class's fit.
{ echo "catalog = \"$T/cat\";"
  sed 's/^links = (/links = ( { name = "shm"; class = "host-shm"; },/; s/link = "[a-z0-9-]*"/link = "shm"/' \
      "$SRC/scenarios/local-testbed.cfg"; } >"$T/shm.cfg"
run "$DE" plan "$T/shm.cfg"
check "a scenario with class = host-shm plans" rc_is 0
check "its plan has an all-reduce" out_has "all-reduce"

# ---- --fit-only on traces calibrate measured on a 2-core EPYC (tests/data/calibrate-epyc) ----
# The 1-core type's steps are +18 % next to a light LC load: colocation_slowdown is fitted
# there and held at 0 on the others. Its lc fit once hung on which interference parameter the
# solver pushed out of range first (R^2 0.64 or 0.92 on these rows); from 4 starts it is the
# better one, and the 0.25-core fit is 0.85 (0.74 from one start).
cp -r "$SRC/models" "$T/cat3"
run "$DE" calibrate --fit-only --catalog "$T/cat3" --traces "$SRC/tests/data/calibrate-epyc" --out "$T/o4"
check "--fit-only on the EPYC traces exits 0" rc_is 0
r2_of() { # r2_of TYPE MODEL: the R^2 column of its row in the quality table
    awk -F'|' -v t="$1" -v m="$2" '$2 ~ " "t" " && $3 ~ " edgenet-s " && $4 ~ " "m" " {gsub(/ /, "", $6); print $6}' "$T/out"
}
r2_at_least() { awk -v a="$(r2_of "$1" "$2")" -v b="$3" 'BEGIN { exit !(a != "" && a + 0 >= b) }'; }
check "emu-cpu-100 lc: R^2 at least 0.9" r2_at_least emu-cpu-100 lc 0.9
check "emu-cpu-025 lc: R^2 at least 0.8" r2_at_least emu-cpu-025 lc 0.8
check "emu-cpu-100: colocation_slowdown fitted" out_has "emu-cpu-100 | edgenet-s | step .*colocation_slowdown = 0\.1"
check "emu-cpu-050: colocation_slowdown held at 0" out_has "emu-cpu-050 | edgenet-s | step .*colocation_slowdown = 0 (held)"
check "the catalog carries it" grep -q "colocation_slowdown = 0.1" "$T/cat3/devices/emu-cpu-100.cfg"

# ---- calibrate --quick end to end ----
cp -r "$SRC/models" "$T/cat2"
# Leak checks off under MPI (OpenMPI's own allocations in the all-reduce ranks), as in the cli
# and mpi_dp tests; the --fit-only runs above check calibrate's own memory.
run env ASAN_OPTIONS=detect_leaks=0 "$DE" calibrate --quick --catalog "$T/cat2" --out "$T/o3"
check "calibrate --quick exits 0" rc_is 0
check "progress on stderr, a line per step when not a tty" err_has "calibrate \[1/"
check "the traces are written" test -s "$T/o3/traces/host-step.csv" -a -s "$T/o3/traces/host-lc.csv" \
    -a -s "$T/o3/traces/host-allreduce.csv"
check "step rows under LC load are measured" bash -c "grep -q '^emu-cpu-100,edgenet-s,[0-9]*,0\.[0-9]' '$T/o3/traces/host-step.csv'"
for t in emu-cpu-100 emu-cpu-050 emu-cpu-025; do
    check "$t changed" bash -c "! cmp -s '$SRC/models/devices/$t.cfg' '$T/cat2/devices/$t.cfg'"
    check "$t cites calibrate" grep -q "measured: deepedge calibrate --quick" "$T/cat2/devices/$t.cfg"
done
here_cpu=$(grep -m1 '^model name' /proc/cpuinfo | sed 's/^[^:]*: *//')
here_cores=$(getconf _NPROCESSORS_ONLN)
check "measured_cpu is this host" grep -qF "measured_cpu = \"$here_cpu\";" "$T/cat2/devices/emu-cpu-050.cfg"
check "measured_cores is this host" grep -q "measured_cores = $here_cores;" "$T/cat2/devices/emu-cpu-050.cfg"
check "the link class says this host" bash -c "grep -qF 'measured_cpu = \"$here_cpu\";' '$T/cat2/links/host-shm.cfg' && grep -q 'measured_cores = $here_cores;' '$T/cat2/links/host-shm.cfg'"
check "the report has the command" grep -q '^\* command: `deepedge calibrate --quick' "$T/o3/calibration.md"
check "the report has the kernel" grep -qF "kernel $(uname -s) $(uname -r)" "$T/o3/calibration.md"
check "the report has R², CV MAPE and standard errors" grep -q "| emu-cpu-100 | edgenet-s | lc | .* ± " "$T/o3/calibration.md"
{ echo "catalog = \"$T/cat2\";"; cat "$SRC/scenarios/local-testbed.cfg"; } >"$T/here.cfg"
run "$DE" sim "$T/here.cfg" --out "$T/sim" --until 5 --no-plots
# Exit 2 is a verdict (some plan misses a deadline with this host's numbers), not an error.
check "sim on the calibrated types runs (exit 0 or 2)" bash -c "[ $rc -eq 0 ] || [ $rc -eq 2 ]"
check "sim prints its summary" out_has "LC tasks over their deadline"
check "sim: no error on stderr" bash -c "! grep -q 'error' '$T/err'"
check "sim does not warn about another host" bash -c "! grep -q 'measured on another host' '$T/err'"

de_test_end
