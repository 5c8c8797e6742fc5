#!/usr/bin/env bash
# hostile_test.sh — a hostile peer on the coordinator's port during a real `deepedge run`.
# First a stranger, who lacks the run's secret: garbage, well-formed messages, a wrong and
# a made-up auth, silence (--auth-timeout 2); every such connection must be closed and counted
# (run.auth_refused). Then an insider who has the secret (read from a worker's
# environment, as a process of the same user can) and answers the challenge: garbage and
# binary junk, over-long lines, forged identities (a worker rank, an LC task, a real
# worker's pid), out-of-range and negative numbers, repeated `done`, 2,000 connections
# opened and closed, a flood of valid-looking lines. The run must finish as a clean run
# does: the same final weights (bit for bit), no restart, no decision but its start, the
# forged lines refused and counted, the event log bounded.
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

# 2 emulated devices and an LC service; 4 x 40 images, B = 16: 8 iterations per epoch, 8
# epochs = 64 iterations, long enough for the attack to happen while training.
cat >"$T/h.cfg" <<CFG
name = "hostile";
links = ( { name = "lan"; bandwidth_mbps = 1000.0; latency_ms = 0.1; } );
devices = (
  { name = "dev-a"; type = "emu-cpu-100"; link = "lan"; },
  { name = "dev-b"; type = "emu-cpu-050"; link = "lan"; }
);
lc_tasks = ( { name = "cam"; device = "dev-a"; model = "edgenet-s"; rate = 20.0; deadline_ms = 400.0; } );
jobs = ( { name = "update"; network = "edgenet-s"; dataset_size = 128; epochs = 8; global_batch = 16;
           checkpoint_interval = 5; checkpoint_cost_s = 0.05; } );
planner = { policy = "proportional"; };
exec = { dataset = "$T/ds"; synthesize = true; synth_classes = 4; synth_per_class = 40; lr = 0.005; seed = 3; };
CFG

"$DE" run "$T/h.cfg" --out "$T/clean" --quiet --no-plot --lc-warmup 0.3 >"$T/clean.out" 2>&1
check "clean run completes" [ $? -eq 0 ]

"$DE" run "$T/h.cfg" --out "$T/host" --quiet --no-plot --lc-warmup 0.3 --auth-timeout 2 >"$T/host.out" 2>&1 &
pid=$!
python3 - "$T/host" "$T/h.cfg" <<'PY' >"$T/attack.log" 2>&1
import hashlib, hmac, os, re, socket, sys, time
out, scenario = sys.argv[1], sys.argv[2]
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
def challenge(s):
    line = b""
    while not line.endswith(b"\n"):
        line += s.recv(1)
    m = re.match(r"challenge nonce=([0-9a-f]{32})\n$", line.decode())
    assert m, line
    return m.group(1)
def raw():
    s = socket.create_connection(("127.0.0.1", p), timeout=5)
    challenge(s)
    return s
# this run's workers (other tests' runs may go on at the same time, with their own secrets)
workers = os.popen("pgrep -f '_worker --scenario %s'" % scenario).read().split()
assert workers, "no worker process"
env = open("/proc/%s/environ" % workers[0], "rb").read().split(b"\0")  # as the coordinator handed it over
secret = [e.split(b"=", 1)[1] for e in env if e.startswith(b"DEEPEDGE_RUN_SECRET=")]
assert secret and len(secret[0]) == 64, "no run secret in a worker's environment"
def conn():  # an insider: answers the challenge with the run secret
    s = socket.create_connection(("127.0.0.1", p), timeout=5)
    mac = hmac.new(secret[0], challenge(s).encode(), hashlib.sha256).hexdigest()
    s.sendall(("auth mac=%s\n" % mac).encode())
    return s
def send(lines, connect=None):
    s = (connect or conn)()
    try:
        for l in lines:
            s.sendall(l if isinstance(l, bytes) else (l + "\n").encode())
    except (BrokenPipeError, ConnectionResetError):
        pass  # closed by the coordinator after too many refused lines
    s.close()
def closed_by_peer(s):  # the coordinator closes a connection that fails the challenge
    s.settimeout(15)
    try:
        return s.recv(100) == b""
    except (ConnectionResetError, socket.timeout):
        return False
strangers = {
    "no auth: a hello": ["hello rank=0 dev=dev-a pid=1 host=x batch=11"],
    "no auth: an LC request": ["lcreq task=cam lat=5 svc=5"],
    "no auth: garbage": ["???"],
    "a made-up auth": ["auth mac=" + "0" * 64, "hello rank=0 dev=dev-a pid=1 host=x batch=11"],
    "an auth of another secret": ["auth mac=" + hmac.new(b"x" * 64, b"y", hashlib.sha256).hexdigest()],
    "an over-long first line": ["a" * 20000],
}
for name, lines in strangers.items():
    s = raw()
    for l in lines:
        try:
            s.sendall((l + "\n").encode())
        except (BrokenPipeError, ConnectionResetError):
            break
    assert closed_by_peer(s), "the coordinator kept a connection after: " + name
    s.close()
    print("stranger closed:", name)
silent = raw()  # says nothing: closed after --auth-timeout 2 s (checked at the end)
t_silent = time.time()
for d in os.listdir("/proc"):  # the run's processes got the secret, none on its command line
    try:
        assert secret[0] not in open("/proc/%s/cmdline" % d, "rb").read(), "the secret on a command line: " + d
    except OSError:
        pass
open(os.path.join(os.path.dirname(out), "secret"), "wb").write(secret[0] + b"\n")
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
silent.settimeout(max(1.0, 5 - (time.time() - t_silent)))
try:
    assert silent.recv(100) == b"", "a silent stranger got something"
    print("stranger closed: silent for %.0f s" % (time.time() - t_silent))
except socket.timeout:
    sys.exit("a silent stranger kept its connection for 5 s (--auth-timeout 2)")
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
assert s['jobs'][0]['status'] == 'finished' and s['jobs'][0]['iterations_done'] == 64, s['jobs'][0]
assert s['run']['restarts'] == 0 and [d['action'] for d in s['decisions']] == ['start']"
check "the forged lines were refused and counted" python3 -c "
import json; s = json.load(open('$T/host/summary.json')); assert s['run']['lines_refused'] > 40, s['run']['lines_refused']"
check "every stranger was closed and counted (run.auth_refused)" python3 -c "
import json; s = json.load(open('$T/host/summary.json')); assert s['run']['auth_refused'] == 7, s['run']['auth_refused']"
check "the closings say why" grep -q "connection closed: wrong run secret" "$T/host/events.csv"
check "a silent stranger is closed after --auth-timeout" grep -q "connection closed: no auth in time" "$T/host/events.csv"
check "the clean run refused no connection" python3 -c "
import json; s = json.load(open('$T/clean/summary.json')); assert s['run']['auth_refused'] == 0, s['run']"
check "the secret is on no command line and in no output or log" bash -c "[ -s '$T/secret' ] && ! grep -rqF -f '$T/secret' '$T/host'"
check "the LC task's numbers are its own service's (no forged 5 s latency)" python3 -c "
import json; s = json.load(open('$T/host/summary.json')); t = s['lc_tasks'][0]
assert t['p99_s'] < 1.0 and t['requests'] < 5000, t"
check "the event log stays bounded" [ "$(wc -c <"$T/host/events.csv")" -lt 200000 ]
check "the refusals say what was refused" grep -q "refused (hello: " "$T/host/events.csv"
check "the flood was summed up, not written line by line" grep -q "more 'intake' events were counted" "$T/host/events.csv"
de_test_end
