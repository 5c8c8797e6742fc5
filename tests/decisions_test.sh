#!/usr/bin/env bash
# decisions_test.sh — one re-plan rule: for a scenario with a crash, a repair, a slowdown
# and an LC load step, the decisions of `deepedge sim` (simulated) and `deepedge run`
# (real MPI workers and an LC service on this host) are the same, one by one: the change,
# its target, the iteration, the action (start, restart, keep, switch), the iteration the
# job continues from and the devices and shares of the new plan. The changes come at
# iterations, so that they fall on the same iteration in both; the crash comes from
# --inject in both, the rest from the scenario's faults.
#
# usage: decisions_test.sh PATH_TO_deepedge
set -u
if [ $# -ne 1 ]; then
    echo "usage: $0 PATH_TO_deepedge" >&2
    exit 2
fi
DE=$1
. "$(dirname "$0")/lib.sh"
de_test_begin decisions
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 ASAN_OPTIONS=detect_leaks=0

# Two emulated devices (1 and 1/2 core), a camera next to the faster one; 40 iterations of
# B = 16, a checkpoint every 5. dev-b crashes before iteration 6 (a loss: back to 5), is
# repaired at 14, dev-a slows to half speed at 22, the camera's load steps to 150 req/s at 30.
cat >"$T/d.cfg" <<CFG
name = "decisions";
links = ( { name = "lan"; bandwidth_mbps = 1000.0; latency_ms = 0.1; } );
devices = (
  { name = "dev-a"; type = "emu-cpu-100"; link = "lan"; },
  { name = "dev-b"; type = "emu-cpu-050"; link = "lan"; }
);
lc_tasks = ( { name = "cam"; device = "dev-a"; model = "edgenet-s"; rate = 20.0; deadline_ms = 60.0; } );
jobs = ( { name = "update"; network = "edgenet-s"; dataset_size = 64; epochs = 10; global_batch = 16;
           checkpoint_interval = 5; checkpoint_cost_s = 0.05; } );
planner = { policy = "deep-edge"; restart_cost_s = 1.0; };
faults = (
  { kind = "repair"; device = "dev-b"; iteration = 14; },
  { kind = "slowdown"; device = "dev-a"; factor = 0.5; iteration = 22; },
  { kind = "lc-rate"; task = "cam"; rate = 150.0; iteration = 30; }
);
exec = { dataset = "$T/ds"; synthesize = true; synth_classes = 4; synth_per_class = 20; lr = 0.005; seed = 3; };
CFG

"$DE" sim "$T/d.cfg" --inject crash:dev-b@6 --out "$T/sim" --no-plots >"$T/sim.out" 2>&1
src=$?
"$DE" run "$T/d.cfg" --inject crash:dev-b@6 --out "$T/run" --quiet --no-plot --lc-warmup 0.5 >"$T/run.out" 2>&1
rrc=$?

decisions() { # the decisions of an events.csv, without their times and predictions
    python3 - "$1" <<'PY'
import csv, sys
for row in csv.DictReader(open(sys.argv[1])):
    if row["event"] != "decision":
        continue
    f = dict(kv.split("=", 1) for kv in row["detail"].split())
    print(" ".join(f[k] for k in ("change", "target", "iteration", "action", "from", "plan")))
PY
}
check "sim completes (exit 0 or 2: the load step breaks the camera's deadline)" bash -c "[ $src -eq 0 ] || [ $src -eq 2 ]"
check "run completes" [ $rrc -eq 0 ]
decisions "$T/sim/events.csv" >"$T/sim.dec"
decisions "$T/run/events.csv" >"$T/run.dec"
echo "sim decisions:"
sed 's/^/  /' "$T/sim.dec"
echo "run decisions:"
sed 's/^/  /' "$T/run.dec"
check "five decisions, every kind of change" [ "$(cut -d' ' -f1 "$T/sim.dec" | tr '\n' ' ')" = "none crash repair slowdown lc-rate " ]
check "a start, a restart after the loss, and switches or keeps" bash -c "grep -q '^none - 0 start' '$T/sim.dec' && grep -q '^crash dev-b 6 restart 5 ' '$T/sim.dec'"
check "the same decisions in sim and run" cmp -s "$T/sim.dec" "$T/run.dec"
check "run carried them out: one failure, the switches as restarts" python3 -c "
import json; s = json.load(open('$T/run/summary.json')); d = [x['action'] for x in s['decisions']]
assert s['jobs'][0]['status'] == 'finished', s['jobs'][0]['status']
assert s['jobs'][0]['failures'] == 1 and s['jobs'][0]['plan_switches'] == d.count('switch'), (s['jobs'][0], d)
assert s['run']['restarts'] == 1 + d.count('switch')"
check "sim carried them out the same way" python3 -c "
import json; s = json.load(open('$T/sim/summary.json')); d = [x['action'] for x in s['decisions']]
assert s['jobs'][0]['failures'] == 1 and s['jobs'][0]['plan_switches'] == d.count('switch'), (s['jobs'][0], d)"
[ $fail -eq 0 ] || tail -20 "$T/run.out"
de_test_end
