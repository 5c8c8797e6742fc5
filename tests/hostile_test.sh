#!/usr/bin/env bash
# hostile_test.sh — a hostile peer on the coordinator's port during a real `deepedge run`:
# garbage and binary junk, over-long lines, forged identities (a worker rank, an LC task,
# a real worker's pid), out-of-range and negative numbers, repeated `done`, 2,000
# connections opened and closed, a flood of valid-looking lines. The run must finish as a
# clean run does: the same final weights (bit for bit), no restart, no decision but its
# start, the forged lines refused and counted, the event log bounded.
#
# usage: hostile_test.sh PATH_TO_deepedge
set -u
if [ $# -ne 1 ]; then
    echo "usage: $0 PATH_TO_deepedge" >&2
    exit 2
fi
DE=$1
. "$(dirname "$0")/lib.sh"
de_test_begin hostile
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 ASAN_OPTIONS=detect_leaks=0

# 2 emulated devices and an LC service; 4 x 40 images, B = 16: 8 iterations per epoch, 5
# epochs = 40 iterations, long enough for the attack to happen while training.
cat >"$T/h.cfg" <<CFG
name = "hostile";
links = ( { name = "lan"; bandwidth_mbps = 1000.0; latency_ms = 0.1; } );
devices = (
  { name = "dev-a"; type = "emu-cpu-100"; link = "lan"; },
  { name = "dev-b"; type = "emu-cpu-050"; link = "lan"; }
);
lc_tasks = ( { name = "cam"; device = "dev-a"; model = "edgenet-s"; rate = 20.0; deadline_ms = 400.0; } );
jobs = ( { name = "update"; network = "edgenet-s"; dataset_size = 128; epochs = 5; global_batch = 16;
           checkpoint_interval = 5; checkpoint_cost_s = 0.05; } );
planner = { policy = "proportional"; };
exec = { dataset = "$T/ds"; synthesize = true; synth_classes = 4; synth_per_class = 40; lr = 0.005; seed = 3; };
CFG

"$DE" run "$T/h.cfg" --out "$T/clean" --quiet --no-plot --lc-warmup 0.3 >"$T/clean.out" 2>&1
check "clean run completes" [ $? -eq 0 ]

"$DE" run "$T/h.cfg" --out "$T/host" --quiet --no-plot --lc-warmup 0.3 >"$T/host.out" 2>&1 &
pid=$!
python3 - "$T/host" <<'PY' >"$T/attack.log" 2>&1
import os, re, socket, sys, time
out = sys.argv[1]
def wait_for(cond, limit=60):
    end = time.time() + limit
    while time.time() < end:
        v = cond()
        if v:
            return v
        time.sleep(0.05)
    sys.exit("attack: timed out")
def port():
    try:
        m = re.search(r"--report 127\.0\.0\.1:(\d+)", open(out + "/events.csv").read())
        return int(m.group(1)) if m else None
    except OSError:
        return None
def iterations():
    try:
        return sum(1 for _ in open(out + "/ranks.csv")) - 1
    except OSError:
        return 0
p = wait_for(port)
wait_for(lambda: iterations() >= 4)  # every rank connected and training
def conn():
    return socket.create_connection(("127.0.0.1", p), timeout=5)
def send(lines):
    s = conn()
    try:
        for l in lines:
            s.sendall(l if isinstance(l, bytes) else (l + "\n").encode())
    except (BrokenPipeError, ConnectionResetError):
        pass  # closed by the coordinator after too many refused lines
    s.close()
workers = os.popen("pgrep -f '_worker --scenario'").read().split()
attacks = {
    "garbage": ["", "???", "hello", "iter g=1", "= = =", "lcreq lat=0.001"],
    "binary": [bytes(range(256)) * 4 + b"\n"],
    "over-long line, then a forged iteration": ["x" * 100000, "iter rank=0 dev=dev-a g=2 batch=11 step=1"],
    "forged rank 0": ["hello rank=0 dev=dev-a pid=1 host=x batch=11", "done g=40 total=40 stopped=0 val_loss=0 val_acc=1",
                      "ckpt g=-5 s=0.1", "iter rank=0 dev=dev-a g=999999999 total=999999999 batch=11 step=1"],
    "forged rank 0 with a real worker's pid": ["hello rank=0 dev=dev-a pid=%s host=x batch=11" % (workers[0] if workers else 1),
                                               "crash rank=0 dev=dev-a g=5", "done g=40 stopped=0"],
    "forged LC service": ["lchello task=cam dev=dev-a pid=1", "lcreq task=cam lat=5 svc=5"],
    "out of range": ["hello rank=-3 dev=dev-b pid=1 batch=5", "hello rank=7 dev=dev-b pid=1 batch=5",
                     "iter rank=1 dev=dev-b g=-1 batch=5 step=-2", "lcreq task=cam lat=-1 svc=nan"],
    "not its to send": ["stop", "rate 1000", "pad 99", "cores 0.001"],
}
for name, lines in attacks.items():
    send(lines)
    print("sent:", name)
for i in range(2000):  # connection slots must be reused
    conn().close()
print("sent: 2000 connections")
def flood(line, n):  # the coordinator may close the connection midway: that is its defence
    s = conn()
    try:
        s.sendall((line * n).encode())
        return "sent"
    except (BrokenPipeError, ConnectionResetError):
        return "closed by the coordinator"
    finally:
        s.close()
# floods of valid-looking lines on connections that never said hello
print("flood of LC requests:", flood("lcreq task=cam lat=0.001 svc=0.001\n", 50000))
print("flood of iterations:", flood("iter rank=1 dev=dev-b g=3 total=40 batch=5 compute=0.1 sync=0 step=0.1\n", 20000))
PY
arc=$?
wait $pid
hrc=$?
sed 's/^/  /' "$T/attack.log"
check "the attack ran" [ $arc -eq 0 ]
check "the attacked run completes (exit 0)" [ $hrc -eq 0 ]
check "the same final weights as the clean run" cmp -s "$T/clean/model.weights" "$T/host/model.weights"
check "no restart, no decision but its start, every iteration" python3 -c "
import json; s = json.load(open('$T/host/summary.json'))
assert s['jobs'][0]['status'] == 'finished' and s['jobs'][0]['iterations_done'] == 40, s['jobs'][0]
assert s['run']['restarts'] == 0 and [d['action'] for d in s['decisions']] == ['start']"
check "the forged lines were refused and counted" python3 -c "
import json; s = json.load(open('$T/host/summary.json')); assert s['run']['lines_refused'] > 40, s['run']['lines_refused']"
check "the LC task's numbers are its own service's (no forged 5 s latency)" python3 -c "
import json; s = json.load(open('$T/host/summary.json')); t = s['lc_tasks'][0]
assert t['p99_s'] < 1.0 and t['requests'] < 5000, t"
check "the event log stays bounded" [ "$(wc -c <"$T/host/events.csv")" -lt 200000 ]
check "the refusals say what was refused" grep -q "refused (hello: " "$T/host/events.csv"
check "the flood was summed up, not written line by line" grep -q "more 'intake' events were counted" "$T/host/events.csv"
de_test_end
