# lib.sh — what the shell tests share (sourced, not run): a temporary folder $T removed
# at exit together with any process still using it, `check NAME CMD...` counting passes
# and failures, and the closing line with the exit status.
#
#   . "$(dirname "$0")/lib.sh"; de_test_begin NAME
#   check "what it checks" CMD ARGS...        # on failure: CMD's stderr, then de_test_on_fail
#   run CMD...; check "..." rc_is 0           # CMD's output in $T/out, $T/err, its status in $rc
#   de_test_end                               # "N passed, M failed"; non-zero on any failure
# A test may define de_test_on_fail (called after a failed check) to show more.

de_test_begin() {
    T=$(mktemp -d "${TMPDIR:-/tmp}/deepedge-$1-XXXXXX") || exit 2
    trap 'pkill -KILL -f "$T/" 2>/dev/null; rm -rf "$T"' EXIT
    pass=0
    fail=0
}

check() {
    local name=$1
    shift
    if "$@" 2>"$T/check.err"; then
        pass=$((pass + 1))
        echo "ok   $name"
    else
        fail=$((fail + 1))
        echo "FAIL $name"
        tail -n 3 "$T/check.err" | sed 's/^/     # /'
        if declare -F de_test_on_fail >/dev/null; then
            de_test_on_fail
        fi
    fi
}

# run CMD...: runs it with stdout in $T/out and stderr in $T/err; its status in $rc.
rc=0
run() {
    "$@" >"$T/out" 2>"$T/err"
    rc=$?
}
rc_is() { [ "$rc" -eq "$1" ]; }

# The output of the last run: what a test's de_test_on_fail shows after a failed check.
de_test_show_last() {
    echo "     (last command exit $rc; its stdout | and stderr ! follow)"
    # The ends: a failure's reason is printed last (a progress log can be long).
    tail -n 15 "$T/out" 2>/dev/null | cut -c1-400 | sed 's/^/     | /'
    tail -n 25 "$T/err" 2>/dev/null | cut -c1-400 | sed 's/^/     ! /'
}

de_test_end() {
    echo "$pass passed, $fail failed"
    [ "$fail" -eq 0 ]
}
