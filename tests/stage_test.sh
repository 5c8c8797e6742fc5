#!/usr/bin/env bash
# stage_test.sh — `deepedge run --stage` across hosts that share no storage with the
# coordinator: two network namespaces as hosts (scripts/netns-hosts.sh), each with a disk
# of its own (scripts/netns-rsh's NETNS_RSH_PRIVATE: in host H the test folder shows
# hostfs/H, nothing of the coordinator's files). The run stages the scenario, the catalog,
# the plan and the dataset cache to each host, rank 0 sends its checkpoints back, and the
# host of rank 0 then crashes: the job resumes on the other host from the checkpoint the
# coordinator holds, staged to a host that never had it. Checks: it completes, each host
# held exactly the coordinator's files, a stale copy on a host is replaced, and the final
# model is bit-identical to the same run on one host with shared paths. Skipped (77) where
# namespaces cannot be made (not root, no ip netns / veth / tc / unshare).
#
# usage: stage_test.sh PATH_TO_deepedge SOURCE_DIR
set -u
if [ $# -ne 2 ]; then
    echo "usage: $0 PATH_TO_deepedge SOURCE_DIR" >&2
    exit 2
fi
DE=$1
SRC=$2
[ "$(id -u)" -eq 0 ] || { echo "stage_test: SKIP: needs root (network namespaces)"; exit 77; }
why=$(bash "$SRC/scripts/netns-hosts.sh" check 2>&1) || { echo "stage_test: SKIP: $why"; exit 77; }
. "$(dirname "$0")/lib.sh"
de_test_begin stage
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 ASAN_OPTIONS=detect_leaks=0
de_test_on_fail() {
    [ -f "$T/err" ] && sed 's/^/     | /' "$T/err" | tail -20
}
json() { # json FILE EXPR: a python expression over the summary as `s`
    python3 -c "import json,sys; s=json.load(open('$1')); sys.exit(0 if ($2) else 1)"
}

# Hosts of our own: a prefix and a free /24.
P="ds$$x"
SUB=""
for k in $(seq 0 49); do
    c="10.74.$(( ($$ + k) % 200 + 20 ))"
    ip -o -4 addr show | awk '{print $4}' | grep -q "^${c//./\\.}\." || { SUB=$c; break; }
done
[ -n "$SUB" ] || { echo "stage_test: SKIP: no free 10.74.x.0/24 subnet"; exit 77; }
args=$(bash "$SRC/scripts/netns-hosts.sh" up --prefix "$P" --hosts 2 --rate 1000 --subnet "$SUB" \
       --hostfile "$T/hostfile" 2>"$T/ns.err") || { cat "$T/ns.err"; echo "FAIL netns-hosts.sh up"; exit 1; }
trap 'bash "$SRC/scripts/netns-hosts.sh" down --prefix "$P" --hostfile "$T/hostfile" --kill >/dev/null 2>&1; pkill -KILL -f "$T/" 2>/dev/null; rm -rf "$T"' EXIT

# The tiny job of run_test.sh: 2 emulated devices, one LC service, 24 iterations, a
# checkpoint every 5; dev-a (rank 0) on host 0, dev-b on host 1.
cat >"$T/job.cfg" <<CFG
name = "stage";
links = ( { name = "lan"; bandwidth_mbps = 1000.0; latency_ms = 0.1; } );
devices = (
  { name = "dev-a"; type = "emu-cpu-100"; link = "lan"; host = "${P}0"; },
  { name = "dev-b"; type = "emu-cpu-050"; link = "lan"; host = "${P}1"; }
);
lc_tasks = ( { name = "cam"; device = "dev-a"; model = "edgenet-s"; rate = 20.0; deadline_ms = 400.0; } );
jobs = ( { name = "update"; network = "edgenet-s"; dataset_size = 64; epochs = 6; global_batch = 16;
           checkpoint_interval = 5; checkpoint_cost_s = 0.05; } );
planner = { policy = "proportional"; restart_cost_s = 1.0; };
exec = { dataset = "ds"; synthesize = true; synth_classes = 4; synth_per_class = 20; lr = 0.005; seed = 3; };
CFG
mkdir -p "$T/hostfs"
export NETNS_RSH_PRIVATE="$T:$T/hostfs"
check "a host sees a folder of its own, not the coordinator's files" \
    bash -c "on() { \"$SRC/scripts/netns-rsh\" \"${P}0\" \"\$@\"; }; ! on test -e '$T/job.cfg' && on touch '$T/mine' && [ -e '$T/hostfs/${P}0/mine' ] && [ ! -e '$T/mine' ]"
# A stale copy of the scenario on host 1 (another run's, same path): replaced, not used.
mkdir -p "$T/hostfs/${P}1/stage$T"
echo 'name = "stale";' >"$T/hostfs/${P}1/stage$T/job.cfg"

"$DE" run "$T/job.cfg" --hosts --mpi-args "$args" --report-host "$SUB.1" --stage "$T/stage" --out "$T/r" \
    --inject crash:dev-a@12 --quiet --no-plot --lc-warmup 0.5 >"$T/out" 2>"$T/err"
check "staged run completes (exit 0)" [ $? -eq 0 ]
check "every iteration done after the crash of rank 0's host" json "$T/r/summary.json" \
    "s['jobs'][0]['status']=='finished' and s['jobs'][0]['iterations_done']==24 and s['run']['restarts']==1"
check "resumed on the other host from the coordinator's checkpoint" \
    bash -c "grep -q 'change=crash target=dev-a iteration=12 action=restart from=10 plan=dev-b:16' '$T/r/events.csv' && grep -q -- '--host ${P}1' '$T/r/events.csv'"
check "the checkpoints and the final weights came back, no transfer failed" json "$T/r/summary.json" \
    "s['run']['stage']['files_received']>=6 and s['run']['stage']['transfers_failed']==0 and s['run']['stage']['files_sent']>=4"
check "the checkpoint host 1 resumed from is the coordinator's copy" \
    cmp "$T/r/recovery-1.deckpt" "$T/hostfs/${P}1/stage$T/r/recovery-1.deckpt"
check "host 1 holds the coordinator's scenario, cache and plan (the stale copy replaced)" bash -c \
    "cmp '$T/job.cfg' '$T/hostfs/${P}1/stage$T/job.cfg' && cmp '$T/r/plan-1.cfg' '$T/hostfs/${P}1/stage$T/r/plan-1.cfg' && cmp $T/ds.*.decache $T/hostfs/${P}1/stage$T/ds.*.decache"
check "host 0 never got the second launch's files" bash -c "[ ! -e '$T/hostfs/${P}0/stage$T/r/plan-1.cfg' ]"
check "the final model is on the coordinator" test -s "$T/r/model.weights"

# The same job on one host with shared paths: the same final model, bit for bit.
"$DE" run "$T/job.cfg" --out "$T/local" --inject crash:dev-a@12 --quiet --no-plot --lc-warmup 0.5 >"$T/out" 2>"$T/err"
check "the same job with shared paths completes" [ $? -eq 0 ]
check "staged across hosts = shared paths on one host (final weights bit for bit)" cmp "$T/r/model.weights" "$T/local/model.weights"

# Bad input: --stage without a folder; a stage folder the host cannot write.
"$DE" run "$T/job.cfg" --stage "" --out "$T/r2" --quiet >"$T/out" 2>"$T/err"
check "--stage '' refused" bash -c "[ $? -eq 1 ] && grep -q -- '--stage' '$T/err'"
"$DE" run "$T/job.cfg" --stage /proc/nope --out "$T/r3" --quiet --no-plot --lc-warmup 0 >"$T/out" 2>"$T/err"
check "a stage folder that cannot be written: an error naming it" bash -c "[ $? -eq 1 ] && grep -q '/proc/nope' '$T/err' '$T/r3/'*.log"

de_test_end
