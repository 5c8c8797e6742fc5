#!/usr/bin/env bash
# sweep_test.sh — `deepedge sweep`: keys and values checked against the scenario's key
# tables with the file's own line in every message, [*], factors (KEY*=F), linked axes
# (--link), sweep.csv replaced only when every run is done, sweep's own usage and exit
# codes, the summary over seeds and the per-policy plot, and the same sweep.csv from
# `mpiexec -n 3` as from `-j 3`.
#
# usage: sweep_test.sh PATH_TO_deepedge SOURCE_DIR MPIEXEC
# Prints one line per check, then "N passed, M failed"; exits non-zero on any failure.
set -u

if [ $# -ne 3 ]; then
    echo "usage: $0 PATH_TO_deepedge SOURCE_DIR MPIEXEC" >&2
    exit 2
fi
DE=$1
SRC=$2
MPIEXEC=$3

. "$(dirname "$0")/lib.sh"
de_test_begin sweep
de_test_on_fail() { de_test_show_last; }
out_has() { grep -qF -- "$1" "$T/out"; }
err_has() { grep -qF -- "$1" "$T/err"; }
# line N of FILE holds TEXT
line_has() { sed -n "$2p" "$1" | grep -qF -- "$3"; }

# local-testbed: two LC tasks (cam-a 25 req/s on line 26, cam-b 10 req/s on line 27), the
# planner group on line 36; cam-b's rate written as an integer. Checked here so that an
# edit of the scenario shows up as such rather than as a wrong line number below.
S="$T/site.cfg"
sed 's/rate = 10.0;/rate = 10;/' "$SRC/scenarios/local-testbed.cfg" >"$S"
check "the test scenario has cam-a's rate on line 26" line_has "$S" 26 'rate = 25.0'
check "... cam-b's on line 27" line_has "$S" 27 'rate = 10;'
check "... the planner group on line 36" line_has "$S" 36 'planner = {'

# ---- usage, help, exit codes ----
run "$DE" sweep --help
check "sweep --help exits 0" rc_is 0
check "sweep --help is sweep's: every option with its default" bash -c "grep -q 'usage: deepedge sweep' '$T/out' && grep -q -- '--link' '$T/out' && grep -q -- '--mpi' '$T/out' && grep -q 'default 2' '$T/out' && grep -q 'default out/sweep' '$T/out'"
check "sweep --help gives the exit codes" out_has "Exit status: 0"
run "$DE" sweep "$S" --vary planner.safety_margin=0.1 -j 0
check "-j 0 exits 1" rc_is 1
check "-j 0 says what -j takes" err_has "--jobs: '0' is not an integer in [1, 1024]"
check "-j 0 gives sweep's usage, not sim's" bash -c "grep -q 'usage: deepedge sweep' '$T/err' && ! grep -q 'usage: deepedge sim' '$T/err'"
run "$DE" sweep "$S" --vary planner.safety_margin=0.1 --bogus
check "an unknown option exits 1 with sweep's usage" bash -c "[ $rc -eq 1 ] && grep -q 'usage: deepedge sweep' '$T/err'"
run "$DE" sweep "$S" --vary planner.safety_margin=0.1 --seed 3
check "--seed is refused (sweep's seeds are 1..--seeds)" bash -c "[ $rc -eq 1 ] && grep -q 'usage: deepedge sweep' '$T/err'"
run "$DE" sweep "$S" --until 10
check "sweep without --vary exits 1" rc_is 1
run "$DE" sweep "$S" --link 'lc_tasks.[0].rate=1,2' --vary 'planner.safety_margin=0.1'
check "a --link before any --vary is refused" bash -c "[ $rc -eq 1 ] && grep -q 'moves with the --vary before it' '$T/err'"

# ---- keys and values against the key tables, lines of the file ----
run "$DE" sweep "$S" --vary 'lc_tasks.[0].rte=1' --out "$T/o"
check "an unknown key exits 1" rc_is 1
check "... names it and the keys there" bash -c "grep -q \"no key 'lc_tasks.\\[0\\].rte'\" '$T/err' && grep -q 'rate, rate_trace, deadline_ms' '$T/err'"
run "$DE" sweep "$S" --vary 'lc_tasks.[*].rate=5,-3' --out "$T/o"
check "a value out of range exits 1" rc_is 1
check "... naming the file's line, the key, the --vary and the range" err_has "site.cfg:26: lc_tasks.[0].rate (--vary 'lc_tasks.[*].rate=5,-3'): -3 is out of range; it takes a number in [0, 1e+06] req/s"
run "$DE" sweep "$S" --vary 'lc_tasks.[1].rate=5,-3' --out "$T/o"
check "... cam-b's rate: line 27 of a 47-line file" err_has "site.cfg:27: lc_tasks.[1].rate"
run "$DE" sweep "$S" --vary 'planner.policy=deep-edge,bogus' --out "$T/o"
check "an error of the loader names the file's line too (36, the planner)" bash -c "[ $rc -eq 1 ] && grep -q 'grid point planner.policy=bogus makes an invalid scenario: .*site.cfg:36: planner.policy' '$T/err'"
run "$DE" sweep "$S" --vary 'planner.fastest_k=2,-1' --out "$T/o"
check "a key left at its default: its group's line and its range" err_has "site.cfg:36: planner.fastest_k (--vary 'planner.fastest_k=2,-1'): -1 is out of range; it takes an integer in [0, 1000000] devices"
run "$DE" sweep "$S" --vary 'jobs.[0].global_batch=32.5' --out "$T/o"
check "a fraction for an integer key is refused with its range" err_has "32.5 is not an integer; it takes an integer in [1, 1000000] samples"
run "$DE" sweep "$S" --vary 'lc_tasks.[5].rate=5' --out "$T/o"
check "an element past the end of a list: the list's length" err_has "lc_tasks has 2 elements, [0] to [1]"
run "$DE" sweep "$S" --vary 'lc_tasks=5' --out "$T/o"
check "a list is refused" bash -c "[ $rc -eq 1 ] && grep -q 'lc_tasks is a list; vary one of its keys' '$T/err'"
run "$DE" sweep "$S" --vary 'planner.safety_margin=0.1' --vary 'planner.safety_margin=0.2' --out "$T/o"
check "a key varied twice is refused" bash -c "[ $rc -eq 1 ] && grep -q 'varied twice' '$T/err'"

# ---- [*], a fraction for an integer in the file, a key left at its default ----
run "$DE" sweep "$S" --vary 'lc_tasks.[*].rate=5,400' --no-plots --out "$T/sw1"
check "[*]: every LC task's rate (at 400 req/s both tasks miss)" bash -c "[ \"\$(cut -d, -f1,8 '$T/sw1/sweep.csv' | tail -2 | tr '\n' ' ')\" = '5,0 400,2 ' ]"
run "$DE" sweep "$S" --vary 'lc_tasks.[1].rate=10.5' --vary 'planner.switch_gain=0.3' --no-plots --out "$T/sw2"
check "a fraction for an integer in the file, and a key left at its default" rc_is 0

# ---- factors and linked axes ----
run "$DE" sweep "$S" --vary 'lc_tasks.[*].rate*=0.5,2' --no-plots --out "$T/scale"
check "KEY*=F exits 0" rc_is 0
check "... its column is named KEY*" bash -c "head -1 '$T/scale/sweep.csv' | grep -q '^lc_tasks.\[\*\].rate\*,seed,'"
run "$DE" sweep "$S" --vary 'lc_tasks.[0].rate=12.5,50' --link 'lc_tasks.[1].rate=5,20' --no-plots --out "$T/link"
check "--link: 2 points, not 4" bash -c "[ \$(wc -l < '$T/link/sweep.csv') -eq 3 ]"
check "... a column per linked key" bash -c "head -1 '$T/link/sweep.csv' | grep -q '^lc_tasks.\[0\].rate,lc_tasks.\[1\].rate,seed,'"
check "rate*=0.5,2 is every rate halved and doubled (the same runs as the linked values)" bash -c "diff <(cut -d, -f2- '$T/scale/sweep.csv' | tail -n +2) <(cut -d, -f3- '$T/link/sweep.csv' | tail -n +2)"
run "$DE" sweep "$S" --vary 'lc_tasks.[0].percentile*=0.5' --no-plots --out "$T/o"
check "a factor on a key the file sets: from its value" rc_is 0
run "$DE" sweep "$S" --vary 'jobs.[0].global_batch*=1.01' --out "$T/o"
check "a factor that makes an integer key fractional is refused, showing the product" bash -c "[ $rc -eq 1 ] && grep -q 'global_batch\*=1.01.*1.01 x [0-9]* = [0-9.]* is not an integer' '$T/err'"
run "$DE" sweep "$S" --vary 'lc_tasks.[0].name*=2' --out "$T/o"
check "a factor on a string is refused" bash -c "[ $rc -eq 1 ] && grep -q 'only a number can be scaled' '$T/err'"
run "$DE" sweep "$S" --vary 'lc_tasks.[0].rate=1,2' --link 'lc_tasks.[1].rate=3' --out "$T/o"
check "a --link with another number of values is refused" bash -c "[ $rc -eq 1 ] && grep -q \"has 1 value; the --vary 'lc_tasks.\[0\].rate=1,2' it moves with has 2\" '$T/err'"

# ---- sweep.csv only replaced when every run is done ----
cp "$T/sw1/sweep.csv" "$T/sw1.before"
run "$DE" sweep "$S" --vary 'lc_tasks.[*].rate=5,-3' --no-plots --out "$T/sw1"
check "a bad grid point: nothing run, the previous sweep.csv untouched" bash -c "[ $rc -eq 1 ] && cmp -s '$T/sw1.before' '$T/sw1/sweep.csv' && [ ! -e '$T/sw1/sweep.partial.csv' ]"
# The second point's run fails (2 x 1e6 req/s over 1e6 s: more requests than a run may draw).
run "$DE" sweep "$S" --vary 'lc_tasks.[*].rate=5,1000000' --until 1000000 -j 1 --no-plots --out "$T/sw1"
check "a failed run exits 1" rc_is 1
check "... the previous sweep.csv untouched" cmp -s "$T/sw1.before" "$T/sw1/sweep.csv"
check "... the run that finished is in sweep.partial.csv" bash -c "[ \$(wc -l < '$T/sw1/sweep.partial.csv') -eq 2 ] && grep -q '^5,1,' '$T/sw1/sweep.partial.csv'"
check "... no temporary file left" bash -c "! ls '$T/sw1' | grep -q tmp"
run "$DE" sweep "$S" --vary 'lc_tasks.[*].rate=5,20' --no-plots --out "$T/sw1"
check "a sweep that succeeds replaces sweep.csv and removes sweep.partial.csv" bash -c "[ $rc -eq 0 ] && ! cmp -s '$T/sw1.before' '$T/sw1/sweep.csv' && [ ! -e '$T/sw1/sweep.partial.csv' ]"

# ---- --policy all: every policy, the spread over seeds ----
run "$DE" sweep "$S" --vary 'lc_tasks.[*].rate*=1,4' --seeds 3 --policy all -j 2 --out "$T/all"
check "--policy all with 3 seeds exits 0" rc_is 0
NPOL=$(tail -n +2 "$T/all/sweep.csv" | cut -d, -f3 | sort -u | wc -l)
check "... at least 5 policies" test "$NPOL" -ge 5
check "... one row per point, seed and policy" bash -c "[ \$(tail -n +2 '$T/all/sweep.csv' | wc -l) -eq \$((2 * 3 * $NPOL)) ]"
check "... one summary row per policy and point" bash -c "[ \$(tail -n +2 '$T/all/sweep_summary.csv' | wc -l) -eq \$((2 * $NPOL)) ]"
check "... the summary's mean, min and max are those of the 3 seeds" bash -c "
    exp=\$(awk -F, 'NR > 1 && \$1 == 4 && \$3 == \"deep-edge\" { s += \$9; n++; if (n == 1 || \$9 < lo) lo = \$9; if (n == 1 || \$9 > hi) hi = \$9 }
                   END { printf \"%.6f,%.6f,%.6f\", s / n, lo, hi }' '$T/all/sweep.csv')
    got=\$(awk -F, '\$1 == 4 && \$2 == \"deep-edge\" { print \$11 \",\" \$12 \",\" \$13 }' '$T/all/sweep_summary.csv')
    [ \"\$exp\" = \"\$got\" ]"
if command -v gnuplot >/dev/null; then
    check "... the plot (one series per policy)" bash -c "[ -s '$T/all/sweep.png' ] && [ \$(grep -c 'deep-edge\|lc-free\|exact' '$T/all/sweep.svg') -ge 3 ]"
fi

# ---- MPI: mpiexec -n 3 gives the same files as -j 3 ----
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
GRID=(--vary 'lc_tasks.[*].rate*=0.5,1,2,4' --link 'planner.safety_margin=0.1,0.1,0.2,0.2' --seeds 2 --policy all --no-plots)
run "$DE" sweep "$S" "${GRID[@]}" -j 3 --out "$T/j3"
check "the -j 3 sweep exits 0" rc_is 0
cp "$T/out" "$T/j3.out"
run "$MPIEXEC" -n 3 --oversubscribe "$DE" sweep "$S" "${GRID[@]}" --out "$T/mpi"
check "mpiexec -n 3 deepedge sweep exits 0" rc_is 0
check "... its sweep.csv is -j 3's, byte for byte" cmp "$T/j3/sweep.csv" "$T/mpi/sweep.csv"
check "... so is sweep_summary.csv" cmp "$T/j3/sweep_summary.csv" "$T/mpi/sweep_summary.csv"
check "... and the rows it prints" bash -c "diff <(grep -v 'results in' '$T/j3.out') <(grep -v 'results in' '$T/out')"
run "$MPIEXEC" -n 3 --oversubscribe "$DE" sweep "$S" --vary 'lc_tasks.[*].rate=5,-3' --out "$T/mpi"
check "under mpiexec a bad value exits 1" bash -c "[ $rc -ne 0 ]"
check "... said once, by rank 0" bash -c "[ \$(grep -c 'out of range' '$T/err') -eq 1 ]"
check "... the previous sweep.csv untouched" cmp "$T/j3/sweep.csv" "$T/mpi/sweep.csv"

de_test_end
