#!/usr/bin/env bash
# run_test.sh — `deepedge run` end to end on this host: MPI workers on two emulated
# devices next to a real LC service, then
#   - completion: every iteration, LC requests measured, the model written;
#   - crash and recovery: an injected crash, re-plan, restart from the checkpoint,
#     bounded lost work, and a final model bit-identical to a run that resumes from the
#     same checkpoint with the same new plan without any fault;
#   - clean shutdown on SIGINT: a checkpoint is kept and no process is left behind;
#   - bad input: plan/scenario mismatch, missing dataset, bad --inject.
#
# usage: run_test.sh PATH_TO_deepedge SOURCE_DIR
set -u
if [ $# -ne 2 ]; then
    echo "usage: $0 PATH_TO_deepedge SOURCE_DIR" >&2
    exit 2
fi
DE=$1
SRC=$2
. "$(dirname "$0")/lib.sh"
de_test_begin run
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 ASAN_OPTIONS=detect_leaks=0
de_test_on_fail() { # the end of the last run's stderr
    [ -f "$T/err" ] && sed 's/^/     | /' "$T/err" | tail -20
}
no_children() { # no worker, LC service or mpiexec of this test's runs is left
    ! pgrep -f "(_worker|_lc|mpiexec).*$1" >/dev/null
}
# The waits below return as soon as their condition holds; their limits are generous for a
# sanitizer build on a loaded CI host (a launch alone can take tens of seconds there).
wait_iterations() { # wait_iterations OUT N: until rank 0 reported N iterations (at most 120 s)
    for _ in $(seq 1 1200); do
        [ "$(awk -F, 'NR>1 && $2==0' "$1/ranks.csv" 2>/dev/null | wc -l)" -ge "$2" ] && return
        sleep 0.1
    done
}
json() { # json FILE EXPR: a python expression over the summary as `s`; when false, what it saw
    python3 -c "import json,sys; s=json.load(open('$1')); ok=($2)
if not ok:
    r=s.get('run',{}); j=(s.get('jobs') or [{}])[0]
    print('     summary: status %s, iterations %s, lost %s, restarts %s, reshares %s, decisions %s, recoveries %s'
          % (j.get('status'), j.get('iterations_done'), j.get('lost_iterations'), r.get('restarts'), r.get('reshares'),
             [d.get('action') for d in s.get('decisions',[])], [x.get('cause') for x in r.get('recoveries',[])]))
sys.exit(0 if ok else 1)"
}

# A tiny scenario: 2 emulated devices (1 and 1/2 core), one LC service, 4 classes x 20
# images (64 training images, B = 16: 4 iterations per epoch), 6 epochs = 24 iterations,
# a checkpoint every 5.
cat >"$T/tiny.cfg" <<CFG
name = "run-tiny";
links = ( { name = "lan"; bandwidth_mbps = 1000.0; latency_ms = 0.1; } );
devices = (
  { name = "dev-a"; type = "emu-cpu-100"; link = "lan"; },
  { name = "dev-b"; type = "emu-cpu-050"; link = "lan"; }
);
lc_tasks = ( { name = "cam"; device = "dev-a"; model = "edgenet-s"; rate = 20.0; deadline_ms = 400.0; } );
jobs = ( { name = "update"; network = "edgenet-s"; dataset_size = 64; epochs = 6; global_batch = 16;
           checkpoint_interval = 5; checkpoint_cost_s = 0.05; } );
planner = { policy = "proportional"; restart_cost_s = 1.0; };
exec = { dataset = "$T/ds"; synthesize = true; synth_classes = 4; synth_per_class = 20; lr = 0.005; seed = 3; };
CFG

# 1. A run to completion.
"$DE" run "$T/tiny.cfg" --out "$T/r1" --quiet --no-plot --lc-warmup 0.5 >"$T/out" 2>"$T/err"
rc=$?
check "run completes (exit 0)" [ $rc -eq 0 ]
check "every iteration done" json "$T/r1/summary.json" "s['jobs'][0]['status']=='finished' and s['jobs'][0]['iterations_done']==24 and s['command']=='run'"
check "both devices trained" json "$T/r1/summary.json" "all(d['iterations']==24 for d in s['devices'])"
check "LC requests measured" json "$T/r1/summary.json" "s['lc_tasks'][0]['requests']>5 and s['lc_tasks'][0]['p95_s']>0"
check "model and time series written" test -s "$T/r1/model.weights" -a -s "$T/r1/ranks.csv" -a -s "$T/r1/lc_windows.csv"
check "summary table printed" grep -q "LC task" "$T/out"
check "no process left" no_children "$T/"
"$DE" run "$T/tiny.cfg" --emulate duty --out "$T/r1d" --quiet --no-plot --lc-warmup 0 >"$T/out" 2>"$T/err"
check "duty-cycle emulation (no cgroups): completes" json "$T/r1d/summary.json" \
    "s['jobs'][0]['status']=='finished' and s['run']['cpu_budget']=='duty-cycle' and s['jobs'][0]['iterations_done']==24"

sed 's/epochs = 6/epochs = 100/' "$T/tiny.cfg" >"$T/long.cfg"

# 2. Crash of dev-b before iteration 12: checkpoint at 10, so 2 iterations lost.
"$DE" run "$T/tiny.cfg" --out "$T/r2" --quiet --no-plot --lc-warmup 0 --inject crash:dev-b@12 >"$T/out" 2>"$T/err"
rc=$?
check "crashed run completes (exit 0)" [ $rc -eq 0 ]
check "one restart, lost work bounded by the checkpoint interval" json "$T/r2/summary.json" \
    "s['jobs'][0]['status']=='finished' and s['run']['restarts']==1 and 0 <= s['jobs'][0]['lost_iterations'] <= 5 and s['run']['recoveries'][0]['device']=='dev-b'"
check "recovery time reported" json "$T/r2/summary.json" "s['run']['recovery_time_s']>0"
check "re-plan without the crashed device" bash -c "grep -q 'change=crash target=dev-b iteration=12 action=restart from=10' '$T/r2/events.csv' && ! grep -q 'dev-b' '$T/r2/plan-1.cfg'"
"$DE" run "$T/r2/plan-1.cfg" --resume "$T/r2/recovery-1.deckpt" --out "$T/r3" --quiet --no-plot --lc-warmup 0 >"$T/out" 2>"$T/err"
check "restart from the same checkpoint without the fault" [ $? -eq 0 ]
check "final model bit-identical to the fault-free restart" cmp -s "$T/r2/model.weights" "$T/r3/model.weights"

# 2b. A degraded link under an LC-oblivious policy whose shares do not depend on links: the
#     rule keeps the plan (as sim would), the emulated link follows (padding), nothing restarts.
"$DE" run "$T/tiny.cfg" --out "$T/r2b" --quiet --no-plot --lc-warmup 0 --inject 'link:lan*0.5@8' >"$T/out" 2>"$T/err"
check "link degradation, same shares: completes" [ $? -eq 0 ]
check "link degradation, same shares: kept, no restart" json "$T/r2b/summary.json" \
    "s['jobs'][0]['status']=='finished' and s['run']['restarts']==0 and [d['action'] for d in s['decisions']]==['start','keep']"
# ... and under deep-edge, a link 50 times slower makes one device alone faster: the workers
#     checkpoint, the job continues on the new plan, nothing lost.
sed 's/policy = "proportional"/policy = "deep-edge"/' "$T/tiny.cfg" >"$T/de.cfg"
"$DE" run "$T/de.cfg" --out "$T/r2k" --quiet --no-plot --lc-warmup 0 --inject 'link:lan*0.02@8' >"$T/out" 2>"$T/err"
check "link degradation, deep-edge: completes" [ $? -eq 0 ]
check "link degradation, deep-edge: one switch, no work lost" json "$T/r2k/summary.json" \
    "s['jobs'][0]['status']=='finished' and s['run']['restarts']==1 and s['jobs'][0]['lost_iterations']==0 and s['run']['recoveries'][0]['cause']=='link-degrade' and [d['action'] for d in s['decisions']]==['start','switch']"

# 2b'. An LC load step the running plan cannot absorb (deep-edge, 60 ms deadline, 20 -> 150
#      req/s): the planner moves work off the camera's device. Same devices, other shares:
#      taken in place at the next iteration (a reshare), no checkpoint, no restart.
sed 's/deadline_ms = 400.0/deadline_ms = 60.0/' "$T/de.cfg" >"$T/lc.cfg"
"$DE" run "$T/lc.cfg" --out "$T/r2l" --quiet --no-plot --lc-warmup 0 --inject 'lc-rate:cam=150@8' >"$T/out" 2>"$T/err"
check "LC load step: completes" [ $? -eq 0 ]
check "LC load step: one reshare in place, no restart, no work lost" json "$T/r2l/summary.json" \
    "s['jobs'][0]['status']=='finished' and s['run']['restarts']==0 and s['run']['reshares']==1 and s['jobs'][0]['lost_iterations']==0 and [d['action'] for d in s['decisions']]==['start','reshare'] and s['run']['reshare_mean_s']>0"
batch_in() { # batch_in SUMMARY K DEVICE: the device's batch in the K-th decision's plan
    python3 -c "
import json,re,sys; p=json.load(open(sys.argv[1]))['decisions'][int(sys.argv[2])]['plan']
m=re.search(sys.argv[3]+r':(\d+)', p); print(m.group(1) if m else 0)" "$1" "$2" "$3"
}
check "LC load step: less training next to the camera" [ "$(batch_in "$T/r2l/summary.json" 1 dev-a)" -lt "$(batch_in "$T/r2l/summary.json" 0 dev-a)" ]

# 2c. The scenario's own faults, at their times from the start of training: dev-b crashes
#     after 1 s and is repaired 1.5 s later (re-plan without it, then with it again).
sed 's/epochs = 6/epochs = 24/' "$T/tiny.cfg" >"$T/faults.cfg"
echo 'faults = ( { device = "dev-b"; time_s = 1.0; kind = "crash"; repair_s = 1.5; } );' >>"$T/faults.cfg"
"$DE" run "$T/faults.cfg" --out "$T/r2c" --quiet --no-plot --lc-warmup 0 >"$T/out" 2>"$T/err"
check "scenario crash + repair: completes" [ $? -eq 0 ]
check "scenario crash + repair: crash recovered, device back by a re-plan" json "$T/r2c/summary.json" \
    "s['jobs'][0]['status']=='finished' and s['jobs'][0]['iterations_done']==96 and [x['cause'] for x in s['run']['recoveries']]==['crash','repair']"
check "scenario crash + repair: the last plan uses dev-b again" grep -q dev-b "$T/r2c/plan-2.cfg"

# 2d. A worker that hangs (SIGSTOP) instead of dying: after --stall-timeout without progress
#     the least recent device is taken as lost, and the job recovers without it.
"$DE" run "$T/long.cfg" --out "$T/r2d" --quiet --no-plot --lc-warmup 0 --stall-timeout 4 >"$T/out" 2>"$T/err" &
spid=$!
wait_iterations "$T/r2d" 6
victim=$(pgrep -f "_worker --scenario $T/long.cfg" | tail -1)
kill -STOP "$victim"
for _ in $(seq 1 1200); do
    grep -q '^.*,resumed,' "$T/r2d/events.csv" 2>/dev/null && break
    sleep 0.1
done
wait_iterations "$T/r2d" 8 # an iteration after the resume
kill -INT $spid
wait $spid
check "hung worker: detected as a stall" grep -q ',stall,' "$T/r2d/events.csv"
check "hung worker: re-planned and resumed without it" json "$T/r2d/summary.json" \
    "s['run']['restarts']==1 and s['run']['recoveries'][0]['cause']=='crash' and s['jobs'][0]['iterations_done']>6"
check "hung worker: nothing left running" no_children "$T/"

# 2e. A repaired device re-admitted by the operator while the run goes on (`deepedge admit`,
#     the run's inbox): the crashed device takes a share again through the re-plan rule;
#     a change the scenario does not know is refused with the reason.
"$DE" run "$T/long.cfg" --out "$T/r2e" --quiet --no-plot --lc-warmup 0 --inject crash:dev-b@4 >"$T/out" 2>"$T/err" &
apid=$!
for _ in $(seq 1 1200); do grep -q ',resumed,' "$T/r2e/events.csv" 2>/dev/null && break; sleep 0.1; done
"$DE" admit dev-b --out "$T/r2e" >"$T/admit.out" 2>&1
check "deepedge admit: the run accepts the repair" bash -c "[ $? -eq 0 ] && grep -q \"accepted 'repair:dev-b'\" '$T/admit.out'"
"$DE" inject 'crash:nope' --out "$T/r2e" >"$T/inject.out" 2>&1
check "deepedge inject: an unknown device is refused with the reason" bash -c "[ $? -eq 1 ] && grep -q \"device 'nope'\" '$T/inject.out'"
for _ in $(seq 1 1200); do grep -q 'operator' "$T/r2e/events.csv" 2>/dev/null && grep -c ',resumed,' "$T/r2e/events.csv" | grep -q '^[2-9]' && break; sleep 0.1; done
kill -INT $apid
wait $apid
check "re-admitted: the repair came from the operator and dev-b trains again" bash -c "grep -q 'repair.*operator' '$T/r2e/events.csv' && grep -q dev-b \"\$(ls '$T'/r2e/plan-*.cfg | sort -V | tail -1)\""
"$DE" admit dev-b --out "$T/nowhere" >"$T/admit2.out" 2>&1
check "deepedge admit with no run there: a clear error" bash -c "[ $? -eq 1 ] && grep -q 'no run is going on' '$T/admit2.out'"

# 3. SIGINT while training (a longer job): checkpoint kept, every child reaped.
"$DE" run "$T/long.cfg" --out "$T/r4" --quiet --no-plot --lc-warmup 0 >"$T/out" 2>"$T/err" &
pid=$!
wait_iterations "$T/r4" 6
# An LC service that dies on its own is restarted by the coordinator.
pkill -KILL -f "_lc --scenario $T/long.cfg"
for _ in $(seq 1 600); do grep -q ',lc-exit,.*restarting it' "$T/r4/events.csv" 2>/dev/null && break; sleep 0.1; done
sleep 0.5
kill -INT $pid
wait $pid
rc=$?
check "a dead LC service is restarted" json "$T/r4/summary.json" "s['run']['lc_tasks'][0]['restarts']==1"
check "SIGINT: exit 1 with 'interrupted'" bash -c "[ $rc -eq 1 ] && grep -q interrupted '$T/err'"
check "SIGINT: checkpoint kept" test -s "$T/r4/checkpoint.deckpt"
sleep 0.5
check "SIGINT: no orphan worker or LC service" no_children "$T/"
check "SIGINT: stopped status in the summary" json "$T/r4/summary.json" "s['jobs'][0]['status']=='stopped' and 0 < s['jobs'][0]['iterations_done'] < 400"

# 3b. A coordinator killed with SIGKILL: its workers and LC services notice and exit by
#     themselves (bounded time), and what it left (cgroups; namespaces under --links netns)
#     is removed when the next run starts (or by `run --cleanup`).
cgroup_of() { find /sys/fs/cgroup -maxdepth 3 -type d -name "run-$1" 2>/dev/null | head -1; }
gone_within() { # gone_within SECONDS: no child of this test's runs is left by then
    for _ in $(seq 1 $((10 * $1))); do no_children "$T/" && return 0; sleep 0.1; done
    return 1
}
"$DE" run "$T/long.cfg" --out "$T/r4k" --quiet --no-plot --lc-warmup 0 >"$T/out" 2>"$T/err" &
kpid=$!
wait_iterations "$T/r4k" 4
left_cg=$(cgroup_of $kpid)
kill -KILL $kpid
wait $kpid 2>/dev/null
check "SIGKILLed coordinator: workers and LC services exit within 20 s" gone_within 20
"$DE" run "$T/tiny.cfg" --out "$T/r4n" --quiet --no-plot --lc-warmup 0 >"$T/out" 2>"$T/err"
check "the next run completes" [ $? -eq 0 ]
if [ -n "$left_cg" ]; then
    check "the next run removed the dead coordinator's cgroups" bash -c "[ ! -d '$left_cg' ] && grep -q ',cleanup,' '$T/r4n/events.csv'"
else
    echo "skip cgroup leftovers (no cgroup budgets here)"
fi
if [ "$(id -u)" -eq 0 ] && "$SRC/scripts/netns-hosts.sh" check >/dev/null 2>&1; then
    "$DE" run "$T/long.cfg" --links netns --out "$T/r4x" --quiet --no-plot --lc-warmup 0 >"$T/out" 2>"$T/err" &
    kpid=$!
    wait_iterations "$T/r4x" 4
    kill -KILL $kpid
    wait $kpid 2>/dev/null
    check "SIGKILLed coordinator under netns: its processes exit within 20 s" gone_within 20
    check "its namespaces are left behind" bash -c "ip netns list | grep -q '^dr${kpid}x'"
    "$DE" run --cleanup --out "$T/r4x" >"$T/out" 2>"$T/err"
    check "run --cleanup removes them and says so" bash -c "! ip netns list | grep -q '^dr${kpid}x' && grep -q '1 namespace set' '$T/out'"
fi

# 4. Bad input: clear errors, nothing started.
sed 's/rate = 20.0/rate = 21.0/' "$T/tiny.cfg" >"$T/other.cfg"
"$DE" run "$T/r1/plan-0.cfg" --scenario "$T/other.cfg" --out "$T/r5" --quiet >"$T/out" 2>"$T/err"
check "plan of another scenario refused" bash -c "[ $? -eq 1 ] && grep -q 'plan-0.cfg' '$T/err' && grep -qi 'checksum' '$T/err'"
sed 's/synthesize = true; //; s|ds"|missing-ds"|' "$T/tiny.cfg" >"$T/nods.cfg"
"$DE" run "$T/nods.cfg" --out "$T/r6" --quiet >"$T/out" 2>"$T/err"
check "missing dataset named with its key" bash -c "[ $? -eq 1 ] && grep -q 'exec.dataset' '$T/err' && grep -q 'missing-ds' '$T/err'"
"$DE" run "$T/tiny.cfg" --inject crash:nope@3 --out "$T/r7" --quiet >"$T/out" 2>"$T/err"
check "unknown device in --inject" bash -c "[ $? -eq 1 ] && grep -q \"device 'nope'\" '$T/err'"
"$DE" run "$T/tiny.cfg" --inject crash:dev-a >"$T/out" 2>"$T/err"
check "malformed --inject" bash -c "[ $? -eq 1 ] && grep -q 'KIND:TARGET@ITERATION' '$T/err'"
"$DE" run "$T/tiny.cfg" --hosts --out "$T/r13" --quiet >"$T/out" 2>"$T/err"
check "--hosts without devices.[i].host names the key" bash -c "[ $? -eq 1 ] && grep -q 'devices.\[0\].host' '$T/err'"
printf 'nosuchhost.invalid slots=2\n' >"$T/hosts"
"$DE" run "$T/tiny.cfg" --hostfile "$T/hosts" --out "$T/r11" --quiet --no-plot --lc-warmup 0 >"$T/out" 2>"$T/err"
check "unreachable host: error with mpiexec's first lines" bash -c "[ $? -eq 1 ] && grep -q 'did not start' '$T/err' && grep -q 'nosuchhost' '$T/err'"
check "unreachable host: nothing left running" no_children "$T/"
"$DE" run "$SRC/scenarios/homogeneous.cfg" --out "$T/r8" --quiet >"$T/out" 2>"$T/err"
check "scenario without exec group" bash -c "[ $? -eq 1 ] && grep -q 'exec' '$T/err'"
DEEPEDGE_MPIEXEC=/bin/false "$DE" run "$T/tiny.cfg" --out "$T/r9" --quiet --no-plot --lc-warmup 0 >"$T/out" 2>"$T/err"
check "workers that cannot start: error" bash -c "[ $? -eq 1 ] && grep -q 'did not start' '$T/err'"
check "workers that cannot start: LC services reaped" no_children "$T/"

# bench fidelity on the tiny scenario (--quick: 3 variants, a sim and a run each): the table,
# one CSV row per item with the medians, exit 0 (within) or 2 (a row outside), never 1.
"$DE" bench fidelity --scenario "$T/tiny.cfg" --quick --out "$T/fid" >"$T/out" 2>"$T/err"
rc=$?
check "bench fidelity --quick: exit 0 or 2" bash -c "[ $rc -eq 0 ] || [ $rc -eq 2 ]"
check "bench fidelity: a row per item and variant" bash -c "grep -c '^base\|^lc-heavy\|^crash-repair' '$T/out' | grep -qx 6"
check "bench fidelity: the CSV has the medians, the plan's prediction and the windows" bash -c "head -1 '$T/fid/fidelity.csv' | grep -q 'p50_predicted,p50_measured,planned,windows_over_predicted,windows_predicted,windows_over_measured,windows_measured\$' && [ \$(wc -l <'$T/fid/fidelity.csv') -eq 7 ]"
check "bench fidelity: an LC row has both medians, the plan's prediction and the windows of sim and run" bash -c "grep -q '^base,.*,cam p95,.*,0\.[0-9e-]*,0\.[0-9e-]*,0\.[0-9e-]*,[0-9]*,[1-9][0-9]*,[0-9]*,[1-9][0-9]*\$' '$T/fid/fidelity.csv'"
check "bench fidelity: a re-training row has the plan's" bash -c "grep -q '^base,.*,retraining_s,.*,,,[0-9.]*,,,,\$' '$T/fid/fidelity.csv'"
# The load step (--only): the LC task's rate x 4.8 at 10 s of training, a fault of the variant.
"$DE" bench fidelity --scenario "$T/tiny.cfg" --only lc-step --out "$T/fid2" >"$T/out" 2>"$T/err"
rc=$?
check "bench fidelity --only lc-step: exit 0 or 2, its rows only" bash -c "([ $rc -eq 0 ] || [ $rc -eq 2 ]) && grep -c '^lc-step' '$T/out' | grep -qx 2 && ! grep -q '^base' '$T/out'"
check "bench fidelity lc-step: the variant steps the task's rate" grep -q 'kind = "lc-rate"' "$T/fid2/variants/lc-step.cfg"
"$DE" bench fidelity --scenario "$T/tiny.cfg" --only no-such --out "$T/fid3" >"$T/out" 2>"$T/err"
check "bench fidelity --only: an unknown variant is refused, naming it" bash -c "[ $? -eq 1 ] && grep -q 'no-such' '$T/err'"

# 5. The multi-host path on one machine: one network namespace per device as its host,
#    tc-shaped links, workers launched through the netns-rsh agent (root only).
if [ "$(id -u)" -eq 0 ] && "$SRC/scripts/netns-hosts.sh" check >/dev/null 2>&1; then
    "$DE" run "$T/tiny.cfg" --links netns --out "$T/r10" --quiet --no-plot --lc-warmup 0 >"$T/out" 2>"$T/err"
    check "netns hosts: run completes" [ $? -eq 0 ]
    check "netns hosts: every iteration done" json "$T/r10/summary.json" "s['jobs'][0]['status']=='finished' and s['jobs'][0]['iterations_done']==24 and s['command']=='run'"
    check "netns hosts: namespaces removed" bash -c "! ip netns list | grep -q \"\$(python3 -c \"import json;print(json.load(open('$T/r10/summary.json'))['run']['netns_prefix'])\")\""
    # The physical-cluster path: devices.[i].host names hosts that mpiexec reaches (here through
    # the netns-rsh agent); every rank and LC service starts on its device's host.
    P=dxt$$x
    args=$("$SRC/scripts/netns-hosts.sh" up --prefix "$P" --hosts 2 --rate 1000 --subnet 10.76.$(($$ % 250)) 2>"$T/ns.err")
    sed "s/type = \"emu-cpu-100\"; link = \"lan\";/& host = \"${P}0\";/; s/type = \"emu-cpu-050\"; link = \"lan\";/& host = \"${P}1\";/" \
        "$T/tiny.cfg" >"$T/hosts.cfg"
    "$DE" run "$T/hosts.cfg" --hosts --mpi-args "$args" --report-host "10.76.$(($$ % 250)).1" --out "$T/r12" \
        --quiet --no-plot --lc-warmup 0.5 >"$T/out" 2>"$T/err"
    check "--hosts: run completes with ranks and LC service on their hosts" [ $? -eq 0 ]
    check "--hosts: every iteration, LC requests measured, budgets by duty cycle" json "$T/r12/summary.json" \
        "s['jobs'][0]['iterations_done']==24 and s['lc_tasks'][0]['requests']>0 and s['run']['cpu_budget']=='duty-cycle'"
    check "--hosts: the worker ran in its host" grep -q -- "--host ${P}1" "$T/r12/events.csv"
    "$SRC/scripts/netns-hosts.sh" down --prefix "$P" --kill 2>/dev/null
else
    echo "skip netns hosts (needs root, ip netns and tc: scripts/netns-hosts.sh check)"
fi

de_test_end
