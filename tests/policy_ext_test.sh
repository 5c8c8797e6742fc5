#!/usr/bin/env bash
# policy_ext_test.sh — external planning policies (`--policy ext:COMMAND`,
# policies/README.md): the Python example policy (policies/example_policy.py), which
# implements the rule of the C policy `proportional`, makes the same decisions as it
#   - in `plan`, on every bundled scenario and job and on generated ones (the shares and
#     the verdict of plan --json);
#   - in `sim`, at every re-plan after crashes, repairs and slowdowns (the decision lines
#     of events.csv), alone and in a comparison (--policy all --policy ext:...);
#   - in `run` on a tiny cluster with an injected crash (the decisions, against sim's);
# it is started once per process, however many re-plans; and a policy that replies
# garbage, times out, crashes, names an unknown device, sends shares that do not sum to
# the global batch, exceed a device's memory, use a device that is down, or speaks
# another protocol is a clear error (exit 1) naming the message, never a crash.
# Exits 77 (skipped) without python3.
#
# usage: policy_ext_test.sh PATH_TO_deepedge SOURCE_DIR
set -u
if [ $# -ne 2 ]; then
    echo "usage: $0 PATH_TO_deepedge SOURCE_DIR" >&2
    exit 2
fi
DE=$1
SRC=$2
command -v python3 >/dev/null || { echo "policy_ext_test: SKIP: no python3"; exit 77; }
. "$(dirname "$0")/lib.sh"
de_test_begin policy_ext
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 ASAN_OPTIONS=detect_leaks=0
EXT="ext:python3 $SRC/policies/example_policy.py"
de_test_on_fail() {
    echo "     (last command exit $rc; its stderr follows)"
    head -c 1500 "$T/err" | sed 's/^/     ! /'
}
err_has() { grep -qF -- "$1" "$T/err"; }

# plan_of SCENARIO JOB POLICY: the shares and the verdict of plan --json, one line
plan_of() {
    "$DE" plan "$1" --job "$2" --policy "$3" --json 2>>"$T/plan.err" | python3 -c "
import json, sys
d = json.load(sys.stdin); p = d['jobs'][0]['plan']
print(' '.join('%s:%d' % (s['device'], s['batch']) for s in p['shares']) or '-', p['feasible'], d['verdict'])"
}
jobs_of() { # the job names of a scenario
    "$DE" scenario show "$1" | awk '/^jobs \(/ {on = 1; next} on && /^  [^ ]/ {print $1; next} on {exit}'
}
decisions() { # the decisions of an events.csv, without their times
    python3 - "$1" <<'PY'
import csv, sys
for row in csv.DictReader(open(sys.argv[1])):
    if row["event"] == "decision":
        f = dict(kv.split("=", 1) for kv in row["detail"].split())
        print(" ".join(f[k] for k in ("change", "target", "iteration", "action", "from", "plan", "predicted_iteration_s")))
PY
}

# ---- 1. plan: the same shares and verdict as the C policy ----
"$DE" scenario generate --devices 40 --lc-tasks 12 --seed 7 -o "$T/gen-40.cfg" >/dev/null
"$DE" scenario generate --devices 25 --lc-tasks 5 --seed 3 --batch 12 -o "$T/gen-b12.cfg" >/dev/null
"$DE" scenario generate --devices 60 --lc-tasks 20 --seed 11 --network resnet50-ft -o "$T/gen-60.cfg" >/dev/null
n_same=0
n_diff=0
for scen in "$SRC"/scenarios/*.cfg "$T"/gen-*.cfg; do
    for job in $(jobs_of "$scen"); do
        c=$(plan_of "$scen" "$job" proportional)
        p=$(plan_of "$scen" "$job" "$EXT")
        if [ -n "$c" ] && [ "$c" = "$p" ]; then
            n_same=$((n_same + 1))
        else
            n_diff=$((n_diff + 1))
            echo "     differs: $(basename "$scen") $job"
            echo "       proportional: $c"
            echo "       python:       $p"
        fi
    done
done
echo "     plan: $n_same scenario jobs with the same plan, $n_diff different"
check "plan: the Python policy's shares and verdict are proportional's on every scenario and job ($n_same)" \
    [ "$n_diff" -eq 0 -a "$n_same" -ge 10 ]
run "$DE" plan "$T/gen-b12.cfg" --policy "$EXT" --no-compare
check "plan: the policy's note is the plan's verdict (fewer samples than devices)" \
    grep -q 'proportional: 25 devices but global batch 12: the 12 fastest train' "$T/out"

run "$DE" plan "$SRC/scenarios/caltech-testbed.cfg" --policy all --policy "$EXT"
check "plan --policy all --policy ext:...: every policy and the external one compared" \
    bash -c "[ $rc -ne 1 ] && grep -q '^ext:python3' '$T/out' && grep -q '^proportional' '$T/out' && grep -q '^deep-edge' '$T/out'"
run "$DE" plan "$SRC/scenarios/caltech-testbed.cfg" --policy "$EXT" -o "$T/ext.plan" --no-compare
check "plan -o: the plan file names the external policy" grep -qF "policy = \"$EXT\";" "$T/ext.plan"
run "$DE" plan --policy list x
check "plan --policy list shows ext:COMMAND" grep -q '^ext:COMMAND' "$T/out"

# ---- 2. sim: the same decisions at every re-plan ----
sim_pair() { # sim_pair NAME SCENARIO ARGS...: sim with both policies, compare decisions
    local name=$1 scen=$2
    shift 2
    "$DE" sim "$scen" --policy proportional --out "$T/$name-c" --no-plots "$@" >/dev/null 2>"$T/$name-c.err"
    local rc_c=$?
    "$DE" sim "$scen" --policy "$EXT" --out "$T/$name-p" --no-plots "$@" >/dev/null 2>"$T/$name-p.err"
    local rc_p=$?
    decisions "$T/$name-c/events.csv" >"$T/$name-c.dec"
    decisions "$T/$name-p/events.csv" >"$T/$name-p.dec"
    echo "     sim $name: $(wc -l <"$T/$name-c.dec") decisions (proportional exit $rc_c, python exit $rc_p)"
    [ "$rc_c" -eq "$rc_p" ] && [ "$rc_c" -ne 1 ] && [ -s "$T/$name-c.dec" ] && cmp "$T/$name-c.dec" "$T/$name-p.dec"
}
check "sim, a crash injected: the same decisions" sim_pair crash "$SRC/scenarios/local-testbed.cfg" --inject crash:edge-b@5
check "sim, the scenario's faults (crash and repair, slowdown): the same decisions" \
    sim_pair faults "$SRC/scenarios/caltech-testbed.cfg" --inject slowdown:gpu-box-2*0.3@40
check "sim, two jobs and a fault: the same decisions" sim_pair two "$SRC/scenarios/heterogeneous.cfg"
check "sim: the crash led to a restart" grep -q "^crash edge-b 5 restart" "$T/crash-p.dec"
check "sim: the same summary apart from the policy's name" python3 -c "
import json
a = json.load(open('$T/faults-c/summary.json')); b = json.load(open('$T/faults-p/summary.json'))
ka = [(j['retraining_time_s'], j['iterations_run'], j['failures']) for j in a['jobs']]
kb = [(j['retraining_time_s'], j['iterations_run'], j['failures']) for j in b['jobs']]
assert ka == kb, (ka, kb)"

run "$DE" sim "$SRC/scenarios/local-testbed.cfg" --policy all --policy "$EXT" --inject crash:edge-b@5 --out "$T/all" --no-plots
check "sim --policy all --policy ext:...: compared with the table's policies" \
    bash -c "[ $rc -eq 0 ] && grep -q '^ext:python3' '$T/out' && ls -d '$T'/all/ext1-* >/dev/null"
decisions "$T"/all/ext1-*/events.csv >"$T/all-p.dec"
decisions "$T/all/proportional/events.csv" >"$T/all-c.dec"
check "sim --policy all: the external policy's decisions are proportional's" cmp "$T/all-c.dec" "$T/all-p.dec"

# Started once per process: a command that counts its starts.
run "$DE" sim "$SRC/scenarios/caltech-testbed.cfg" --no-plots --out "$T/once" \
    --policy "ext:echo start >>'$T/starts'; exec python3 '$SRC/policies/example_policy.py'"
check "sim: one start of the policy for $(decisions "$T/once/events.csv" | wc -l) plans" \
    bash -c "[ \"\$(wc -l <'$T/starts')\" -eq 1 ] && [ $(decisions "$T/once/events.csv" | wc -l) -ge 3 ]"

# ---- 3. bad policies: a clear error naming the message, exit 1 ----
# A tiny cluster: two devices, B = 16; the timeout is 1 s.
cat >"$T/tiny.cfg" <<CFG
name = "ext-tiny";
links = ( { name = "lan"; bandwidth_mbps = 1000.0; latency_ms = 0.1; } );
devices = (
  { name = "dev-a"; type = "emu-cpu-100"; link = "lan"; },
  { name = "dev-b"; type = "emu-cpu-050"; link = "lan"; }
);
lc_tasks = ( { name = "cam"; device = "dev-a"; model = "edgenet-s"; rate = 20.0; deadline_ms = 400.0; } );
jobs = ( { name = "update"; network = "edgenet-s"; dataset_size = 64; epochs = 6; global_batch = 16;
           checkpoint_interval = 5; checkpoint_cost_s = 0.05; } );
planner = { policy = "proportional"; restart_cost_s = 1.0; ext_timeout_s = 1.0; };
exec = { dataset = "$T/ds"; synthesize = true; synth_classes = 4; synth_per_class = 20; lr = 0.005; seed = 3; };
CFG
cat >"$T/bad.py" <<'PY'
import json, sys, time
mode = sys.argv[1]
def send(m):
    sys.stdout.write(json.dumps(m) + "\n"); sys.stdout.flush()
hello = json.loads(sys.stdin.readline())
send({"type": "hello", "protocol": 2 if mode == "protocol" else 1})
for line in sys.stdin:
    req = json.loads(line)
    devs = [d for d in req["devices"]]
    B = req["job"]["global_batch"]
    if mode == "garbage":
        sys.stdout.write("this is not JSON\n"); sys.stdout.flush()
    elif mode == "hang":
        time.sleep(60)
    elif mode == "crash":
        sys.exit(3)
    elif mode == "unknown-device":
        send({"type": "plan", "shares": [{"device": "nope", "batch": B}]})
    elif mode == "wrong-sum":
        send({"type": "plan", "shares": [{"device": devs[0]["name"], "batch": B - 1}]})
    elif mode == "memory":
        d = min(devs, key=lambda d: d["max_batch"])
        send({"type": "plan", "shares": [{"device": d["name"], "batch": d["max_batch"] + 1}]})
    elif mode == "bad-query":
        send({"type": "query", "id": 1, "query": "step_time", "device": "nope", "batch": 1})
    elif mode == "unknown-type":
        send({"type": "plans", "shares": []})
    elif mode == "all-devices":  # every device, up or not: half of B each
        send({"type": "plan", "shares": [{"device": d["name"], "batch": B // 2} for d in devs]})
    elif mode == "probe":  # every kind of query about one plan, the answers to a file, then that plan
        n = [0]
        def query(what, **f):
            n[0] += 1
            send(dict(type="query", id="q%d" % n[0], query=what, **f))
            a = json.loads(sys.stdin.readline())
            assert a["type"] == "answer" and a["id"] == "q%d" % n[0], a
            return a
        shares = [{"device": "dev-a", "batch": 10}, {"device": "dev-b", "batch": 6}]
        ev = query("evaluate", shares=shares)
        st = {s["device"]: query("step_time", device=s["device"], batch=s["batch"])["step_time_s"] for s in shares}
        ar = query("allreduce", devices=["dev-a", "dev-b"])["time_s"]
        T = max(st.values()) + ar
        lat = query("lc_latency", task="cam", batch=10, duty=st["dev-a"] / T)["latency_s"]
        alone = query("step_time", device="dev-a", batch=10, lc_load=False)["step_time_s"]
        json.dump({"evaluate": ev, "step": st, "allreduce": ar, "T": T, "lat": lat, "alone": alone,
                   "request": req}, open(sys.argv[2], "w"))
        send({"type": "plan", "shares": shares})
    elif mode == "log":  # each request's change and devices up to a file; all of B on the first device up
        with open(sys.argv[2], "a") as f:
            f.write(json.dumps({"change": req["change"], "up": [d["name"] for d in devs if d["up"]]}) + "\n")
        send({"type": "plan", "shares": [{"device": [d for d in devs if d["up"]][0]["name"], "batch": B}]})
PY
cat >"$T/mem.cfg" <<CFG
name = "ext-mem";
links = ( { name = "lan"; bandwidth_mbps = 1000.0; latency_ms = 0.1; } );
devices = ( { name = "nano"; type = "jetson-nano"; link = "lan"; }, { name = "v100"; type = "x86-v100"; link = "lan"; } );
jobs = ( { name = "update"; network = "resnet50-ft"; dataset_size = 6400; epochs = 1; global_batch = 512; } );
CFG
bad() { # bad MODE [SCENARIO]: plan with the bad policy
    run "$DE" plan "${2:-$T/tiny.cfg}" --policy "ext:python3 $T/bad.py $1" --no-compare
}
bad garbage
check "garbage: exit 1, the message and the line quoted" \
    bash -c "[ $rc -eq 1 ] && grep -qF \"plan request 1, reply message 1: not JSON (at character 1); the line was 'this is not JSON'\" '$T/err'"
bad hang
check "timeout: exit 1 after planner.ext_timeout_s, naming the request" \
    bash -c "[ $rc -eq 1 ] && grep -qF 'plan request 1, reply message 1:' '$T/err' && grep -qF 'wrote no line within 1 s' '$T/err'"
check "timeout: the policy's process is gone" bash -c "! pgrep -f '$T/[b]ad.py hang' >/dev/null"
bad crash
check "crash: exit 1, how it exited" \
    bash -c "[ $rc -eq 1 ] && grep -qF 'closed its output (exited with status 3)' '$T/err'"
bad unknown-device
check "unknown device: exit 1, the share and the device named" \
    bash -c "[ $rc -eq 1 ] && grep -qF \"the plan (message 1): unknown device 'nope'; the line was '{\\\"type\\\": \\\"plan\\\"\" '$T/err'"
bad wrong-sum
check "wrong sum: exit 1, the sum and the global batch" \
    bash -c "[ $rc -eq 1 ] && grep -qF 'the batches sum to 15, not to the global batch 16' '$T/err'"
bad memory "$T/mem.cfg"
check "over memory: exit 1, the device's limit" \
    bash -c "[ $rc -eq 1 ] && grep -qF \"on device 'nano' exceeds its memory limit\" '$T/err'"
bad bad-query
check "a query about an unknown device: exit 1, the query named" \
    bash -c "[ $rc -eq 1 ] && grep -qF \"query (message 1): unknown device 'nope'\" '$T/err'"
bad unknown-type
check "an unknown message type: exit 1" \
    bash -c "[ $rc -eq 1 ] && grep -qF \"unknown message type 'plans'\" '$T/err'"
bad protocol
check "another protocol: exit 1, both versions named" \
    bash -c "[ $rc -eq 1 ] && grep -qF 'it speaks protocol 2; deepedge speaks protocol 1' '$T/err'"
run "$DE" plan "$T/tiny.cfg" --policy "ext:$T/no-such-policy" --no-compare
check "a command that does not exist: exit 1, status 127" \
    bash -c "[ $rc -eq 1 ] && grep -qF 'exited with status 127' '$T/err'"
run "$DE" sim "$T/tiny.cfg" --policy "ext:python3 $T/bad.py all-devices" --inject crash:dev-b@3 --out "$T/down" --no-plots
check "sim: a plan with a device that is down ends the simulation (exit 1), the device named" \
    bash -c "[ $rc -eq 1 ] && grep -qF \"device 'dev-b' is down\" '$T/err' && tail -1 '$T/down/events.csv' | grep -q plan_error"
run "$DE" plan "$T/tiny.cfg" --policy "ext:"
check "--policy ext: without a command: refused" bash -c "[ $rc -eq 1 ] && grep -qF \"unknown policy 'ext:'\" '$T/err'"
sed 's|policy = "proportional";|policy = "ext:";|' "$T/tiny.cfg" >"$T/empty.cfg"
run "$DE" plan "$T/empty.cfg"
line=$(grep -n '^planner' "$T/empty.cfg" | cut -d: -f1)
check "planner.policy = \"ext:\": refused naming file, line and key" \
    bash -c "[ $rc -eq 1 ] && grep -qF \"empty.cfg:$line: planner.policy: unknown policy 'ext:'\" '$T/err'"

# ---- 4. the queries: answers from deepedge's own predictions ----
run "$DE" plan "$T/tiny.cfg" --policy "ext:python3 $T/bad.py probe $T/probe.json" --json
check "queries: the answers agree with the plan deepedge predicts for the same shares" python3 -c "
import json
d = json.load(open('$T/out')); p = json.load(open('$T/probe.json'))
plan, ev = d['jobs'][0]['plan'], p['evaluate']
assert plan['iteration_time_s'] == ev['iteration_time_s'] == p['T'], (plan['iteration_time_s'], ev, p['T'])
assert plan['allreduce_time_s'] == ev['allreduce_time_s'] == p['allreduce']
assert [s['step_time_s'] for s in plan['shares']] == [p['step']['dev-a'], p['step']['dev-b']]
assert d['lc_tasks'][0]['predicted_latency_s'] == ev['lc_tasks'][0]['latency_s'] == p['lat'], (d['lc_tasks'], ev, p['lat'])
assert ev['feasible'] == plan['feasible'] and plan['retraining_time_s'] == ev['retraining_time_s']
assert p['alone'] < p['step']['dev-a'], 'without its LC load dev-a steps faster'
r = p['request']
assert r['job']['global_batch'] == 16 and r['change'] is None and [x['name'] for x in r['devices']] == ['dev-a', 'dev-b']
assert r['devices'][0]['lc_tasks'] == ['cam'] and r['lc_tasks'][0]['rate'] == 20.0 and r['links'][0]['name'] == 'lan'
"

run "$DE" sim "$T/tiny.cfg" --policy "ext:python3 $T/bad.py log $T/log.json" --inject crash:dev-b@3 \
    --inject slowdown:dev-a*0.5@5 --out "$T/log" --no-plots
check "sim: each plan request says what changed" python3 -c "
import json
L = [json.loads(l) for l in open('$T/log.json')]
assert L[0] == {'change': None, 'up': ['dev-a', 'dev-b']}, L[0]
c = L[1]['change']
assert (c['kind'], c['target'], c['iteration'], c['value'], c['origin']) == ('crash', 'dev-b', 3, None, '--inject'), c
assert L[1]['up'] == ['dev-a'], L[1]
c = L[2]['change']
assert (c['kind'], c['target'], c['iteration'], c['value']) == ('slowdown', 'dev-a', 5, 0.5), c
assert len(L) == 3, L"

# ---- 5. the scenario's planner.policy, and run ----
sed "s|policy = \"proportional\";|policy = \"$EXT\";|" "$T/tiny.cfg" >"$T/tiny-ext.cfg"
run "$DE" plan "$T/tiny-ext.cfg" --no-compare
check "planner.policy = \"ext:...\" in the scenario: plan uses it" grep -qF "plan  policy $EXT" "$T/out"
"$DE" sim "$T/tiny.cfg" --inject crash:dev-b@6 --out "$T/tiny-sim" --no-plots >/dev/null 2>&1
"$DE" run "$T/tiny-ext.cfg" --inject crash:dev-b@6 --out "$T/tiny-run" --quiet --no-plot --lc-warmup 0.5 >"$T/run.out" 2>&1
rrc=$?
check "run with the external policy completes" [ $rrc -eq 0 ]
decisions "$T/tiny-sim/events.csv" | cut -d' ' -f1-6 >"$T/tiny-sim.dec"
decisions "$T/tiny-run/events.csv" | cut -d' ' -f1-6 >"$T/tiny-run.dec"
sed 's/^/     sim: /' "$T/tiny-sim.dec"
sed 's/^/     run: /' "$T/tiny-run.dec"
check "run: the external policy's decisions are sim's with proportional (a start, a restart)" \
    bash -c "cmp -s '$T/tiny-sim.dec' '$T/tiny-run.dec' && grep -q '^crash dev-b 6 restart' '$T/tiny-run.dec'"
check "run: no plan error" bash -c "! grep -q plan_error '$T/tiny-run/events.csv'"
[ $rrc -eq 0 ] || tail -20 "$T/run.out"
de_test_end
