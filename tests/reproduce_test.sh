#!/bin/bash
# reproduce_test.sh — `deepedge reproduce --quick`: the report and its HTML twin are written,
# every figure the report references is there, the headline table has one row per policy
# with finite 95% intervals, results.csv has every nominal run; bad options and a scenario
# whose LC rates cannot be scaled are refused with a message.
#   reproduce_test.sh DEEPEDGE SOURCE_DIR
DE=$1
SRC=$2
. "$(dirname "$0")/lib.sh"
de_test_begin reproduce
R=$T/report

check "reproduce --quick writes its report" "$DE" reproduce --quick -j 2 --out "$R"
check "report.md and report.html" test -s "$R/report.md" -a -s "$R/report.html"

figures_present() {
    local n=0 f
    for f in $(grep -o '](\([^)]*\))' "$R/report.md" | sed 's/^](//; s/)$//'); do
        [ -s "$R/$f" ] || { echo "missing figure $f" >&2; return 1; }
        n=$((n + 1))
    done
    [ "$n" -ge 14 ] || { echo "only $n figure links" >&2; return 1; }
    grep -o 'src="[^"]*"' "$R/report.html" | sed 's/^src="//; s/"$//' | while read -r f; do
        [ -s "$R/$f" ] || { echo "html: missing $f" >&2; exit 1; }
    done
}
check "every figure referenced (PNG and SVG) exists" figures_present

headline_rows() { sed -n '/^## Headline/,/^## Policies/p' "$R/report.md" | grep '^| ' | tail -n +2; }
one_row_per_policy() {
    local p rows
    rows=$(headline_rows)
    for p in $("$DE" plan --policy list | awk 'NR > 1 && $1 !~ /^ext:/ {print $1}'); do
        [ "$(printf '%s\n' "$rows" | grep -c "^| $p |")" -eq 1 ] || { echo "policy $p: not one row" >&2; return 1; }
    done
    # the table's policies, and the example external one when it could run here
    local want
    want=$("$DE" plan --policy list | awk 'NR > 1 && $1 !~ /^ext:/' | wc -l)
    grep -q 'example external policy, `ext:' "$R/report.md" && want=$((want + 1))
    [ "$(printf '%s\n' "$rows" | wc -l)" -eq "$want" ] || { echo "headline rows: $(printf '%s\n' "$rows" | wc -l), want $want" >&2; return 1; }
}
check "headline: one row per policy" one_row_per_policy

finite_cis() {
    headline_rows | awk -F'|' '{
        for (c = 4; c <= 5; c++) { v = $c; gsub(/^ +| +$/, "", v)
            if (v !~ /^[0-9]+(\.[0-9]+)? ± [0-9]+(\.[0-9]+)?$/) { print "not a finite mean ± CI: " v > "/dev/stderr"; bad = 1 } }
    } END { exit bad }'
}
check "headline: finite means and 95% intervals" finite_cis
check "the case study's plan is in the report" grep -q 'deep-edge' "$R/report.md"
check "the sim-vs-run section says what produces it" grep -q 'bench fidelity' "$R/report.md"
check "the time is in the footer" grep -q 's of wall time' "$R/report.md"
nominal_runs() {
    local want n
    want=$(( $(headline_rows | wc -l) * 3 ))
    n=$(awk -F, '$1 == "load" && $2 == 1' "$R/results.csv" | wc -l)
    [ "$n" -eq "$want" ] || { echo "results.csv: $n nominal runs, want $want" >&2; return 1; }
}
check "results.csv: every nominal run" nominal_runs

refused() { # refused PATTERN ARGS...: exit status 1 and PATTERN in the message
    local pat=$1
    shift
    "$DE" reproduce "$@" >"$T/out" 2>"$T/err"
    local rc=$?
    [ "$rc" -eq 1 ] || { echo "exit status $rc" >&2; return 1; }
    grep -q -- "$pat" "$T/err" || { cat "$T/err" >&2; return 1; }
}
check "--seeds 1 refused (an interval needs two)" refused '--seeds' --seeds 1 --out "$T/x"
check "--seeds x refused" refused '--seeds' --seeds x --out "$T/x"
check "an unknown option: usage" refused 'usage: deepedge reproduce' --bogus
check "-j 0 refused" refused '--jobs' -j 0 --out "$T/x"
check "a stray argument refused" refused 'unexpected argument' extra
check "a missing scenario named" refused 'nope.cfg' --scenario "$T/nope.cfg" --out "$T/x"
check "a rate trace cannot be scaled: named" refused 'rate_trace' --scenario "$SRC/scenarios/heterogeneous.cfg" --quick --out "$T/x"
help_ok() { "$DE" reproduce --help | grep -q 'usage: deepedge reproduce'; }
check "--help" help_ok
de_test_end
