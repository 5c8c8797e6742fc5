#!/usr/bin/env bash
# torture_test.sh — SIGKILL at random moments, then resume:
#   1. training (`deepedge train`, a checkpoint written at every step): killed KILLS times
#      (default 200, DE_TORTURE_KILLS), in rounds of a job each, at a random moment each time, often while a
#      checkpoint is being written, and restarted with --resume from whatever is on disk.
#      Every restart loads the last good checkpoint, no temporary file is left at the
#      end, and the finished run's weights are bit-identical to an uninterrupted run's.
#   2. the coordinator of `deepedge run`: killed three times at random iterations, each
#      time resumed (`run --resume OUT/checkpoint.deckpt`) into a new folder. The
#      workers and LC services of the killed coordinator exit by themselves (within
#      20 s). The files it leaves hold whole rows only and no half summary. The model
#      the last resumed run writes is bit-identical to an uninterrupted run's.
#
# usage: torture_test.sh PATH_TO_deepedge
set -u
if [ $# -ne 1 ]; then
    echo "usage: $0 PATH_TO_deepedge" >&2
    exit 2
fi
DE=$1
KILLS=${DE_TORTURE_KILLS:-200}
. "$(dirname "$0")/lib.sh"
de_test_begin torture
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 ASAN_OPTIONS=detect_leaks=0 OMP_NUM_THREADS=1
de_test_on_fail() { [ -f "$T/err" ] && sed 's/^/     | /' "$T/err" | tail -15; }
RANDOM=7 # the same kill moments on every run of the test

# ---- 1. training ----
printf 'input 3 16 16\nconv 8 3 1 1\nbn\nrelu\nmaxpool 2\nconv 8 3 1 1\nrelu\ngap\nfc 4\n' >"$T/net.txt"
# 96 images, 20 % held out: 10 steps per epoch at batch 8. Commands are started from
# arrays, never through a shell function: `f &` would be a subshell, and its pid not the
# process to kill.
EPOCHS=60
TRAIN=("$DE" train --synthetic --classes 4 --per-class 24 --net-file "$T/net.txt" --batch 8 --epochs "$EPOCHS"
       --seed 5 --threads 1 --quiet --checkpoint-every 1)
"${TRAIN[@]}" --checkpoint "$T/ref.ckpt" --save-weights "$T/ref.w" >"$T/out" 2>"$T/err"
check "an uninterrupted run ($((EPOCHS * 10)) steps)" [ $? -eq 0 -a -s "$T/ref.w" ]

mtime() { stat -c %y "$1" 2>/dev/null; }
# Rounds: each starts from nothing and is killed and resumed until its job ends, then
# its weights are compared with the uninterrupted run's; rounds go on until KILLS kills.
# Each start resumes from what the last one left. Every other kill comes at a random
# moment in the next 0 to 0.4 s (start-up and loading included); the others come 0 to 7
# ms after the checkpoint first moves on, among the steps and their checkpoint writes.
kills=0 mid_write=0 restarts=0 rounds=0 differ=0 failed=0
while [ $kills -lt "$KILLS" ] && [ $failed -eq 0 ]; do
    rm -f "$T/t.ckpt" "$T/t.w"
    while :; do
        resume=()
        [ -f "$T/t.ckpt" ] && resume=(--resume "$T/t.ckpt")
        before=$(mtime "$T/t.ckpt")
        "${TRAIN[@]}" --checkpoint "$T/t.ckpt" --save-weights "$T/t.w" "${resume[@]}" >"$T/out" 2>"$T/err" &
        pid=$!
        if [ $kills -ge "$KILLS" ]; then
            : # enough kills: this round runs to its end
        elif [ $((kills % 2)) -eq 0 ]; then
            sleep "0.$(printf '%03d' $((RANDOM % 400)))"
        else
            for _ in $(seq 1 2000); do
                [ "$(mtime "$T/t.ckpt")" != "$before" ] && break
                kill -0 $pid 2>/dev/null || break
                sleep 0.002
            done
            sleep "0.00$((RANDOM % 8))"
        fi
        if [ $kills -lt "$KILLS" ] && kill -KILL $pid 2>/dev/null; then
            wait $pid 2>/dev/null
            kills=$((kills + 1))
            ls "$T"/t.ckpt.tmp.* >/dev/null 2>&1 && mid_write=$((mid_write + 1))
            restarts=$((restarts + ${#resume[@]} / 2))
            continue
        fi
        wait $pid
        [ $? -eq 0 ] || failed=1 # a restart that could not resume
        break
    done
    rounds=$((rounds + 1))
    cmp -s "$T/ref.w" "$T/t.w" || differ=$((differ + 1))
done
check "$kills SIGKILLs ($mid_write during a checkpoint write) in $rounds rounds, every restart resumed" [ $failed -eq 0 -a $kills -ge "$KILLS" ]
check "every round's final weights are bit-identical to the uninterrupted run's" [ $differ -eq 0 ]
check "no temporary file is left" bash -c "! ls '$T'/t.ckpt.tmp.* '$T'/t.w.tmp.* 2>/dev/null"
echo "     ($kills kills, $mid_write of them while a checkpoint was being written, $restarts restarts from a checkpoint, $rounds rounds)"

# ---- 2. the coordinator ----
cat >"$T/job.cfg" <<CFG
name = "torture";
links = ( { name = "lan"; bandwidth_mbps = 1000.0; latency_ms = 0.1; } );
devices = (
  { name = "dev-a"; type = "emu-cpu-100"; link = "lan"; },
  { name = "dev-b"; type = "emu-cpu-050"; link = "lan"; }
);
lc_tasks = ( { name = "cam"; device = "dev-a"; model = "edgenet-s"; rate = 20.0; deadline_ms = 400.0; } );
jobs = ( { name = "update"; network = "edgenet-s"; dataset_size = 64; epochs = 12; global_batch = 16;
           checkpoint_interval = 4; checkpoint_cost_s = 0.05; } );
planner = { policy = "proportional"; };
exec = { dataset = "$T/ds"; synthesize = true; synth_classes = 4; synth_per_class = 20; lr = 0.005; seed = 3; };
CFG
RUN=("$DE" run "$T/job.cfg" --quiet --no-plot --lc-warmup 0)
no_children() { ! pgrep -f "(_worker|_lc|mpiexec).*$T/" >/dev/null; }
gone_within() { for _ in $(seq 1 $((10 * $1))); do no_children && return 0; sleep 0.1; done; return 1; }
iterations() { awk -F, 'NR>1 && $2==0' "$1/ranks.csv" 2>/dev/null | wc -l; }
whole_rows() { # every CSV of the folder: a header, rows with its number of fields, a final newline
    python3 - "$1" <<'PY'
import csv, glob, os, sys
bad = []
for p in glob.glob(os.path.join(sys.argv[1], "*.csv")):
    data = open(p, newline="").read()
    if data and not data.endswith("\n"):
        bad.append(p + ": no final newline")
        continue
    rows = list(csv.reader(data.splitlines()))
    bad += ["%s:%d: %d fields, the header has %d" % (p, i + 1, len(r), len(rows[0]))
            for i, r in enumerate(rows) if len(r) != len(rows[0])]
s = os.path.join(sys.argv[1], "summary.json")
if os.path.exists(s):
    import json
    json.load(open(s))
print("\n".join(bad), file=sys.stderr)
sys.exit(1 if bad else 0)
PY
}
"${RUN[@]}" --out "$T/ref" >"$T/out" 2>"$T/err"
check "an uninterrupted run (48 iterations)" [ $? -eq 0 -a -s "$T/ref/model.weights" ]

prev=""
for k in 1 2 3; do
    resume=()
    [ -n "$prev" ] && resume=(--resume "$prev/checkpoint.deckpt")
    "${RUN[@]}" --out "$T/k$k" "${resume[@]}" >"$T/out" 2>"$T/err" &
    pid=$!
    # a random iteration after the first checkpoint of this launch
    at=$((RANDOM % 10 + 5))
    for _ in $(seq 1 600); do
        [ "$(iterations "$T/k$k")" -ge $at ] && [ -s "$T/k$k/checkpoint.deckpt" ] && break
        sleep 0.05
    done
    kill -KILL $pid
    killed=$?
    wait $pid 2>/dev/null
    check "kill $k, after $at iterations of its launch: the coordinator was still running" [ $killed -eq 0 ]
    check "kill $k: its workers and LC services exit within 20 s" gone_within 20
    check "kill $k: the files it left hold whole rows, no half summary" whole_rows "$T/k$k"
    prev="$T/k$k"
done
"${RUN[@]}" --out "$T/final" --resume "$prev/checkpoint.deckpt" >"$T/out" 2>"$T/err"
check "the run resumed after three kills finishes" [ $? -eq 0 ]
check "its model is bit-identical to the uninterrupted run's" cmp "$T/ref/model.weights" "$T/final/model.weights"
de_test_end
