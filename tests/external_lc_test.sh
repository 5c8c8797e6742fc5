#!/usr/bin/env bash
# external_lc_test.sh — LC applications deepedge did not start, observed during a real
# `deepedge run`: a small HTTP service (tests/apps/tiny_lc_app.py, Python standard library)
# runs next to the training; four LC tasks observe it in each way a service can be
# observed (exec/de_lcwatch.h): deepedge probing it over HTTP at the task's rate, its
# latency log read as it grows, its Prometheus histogram scraped, and a path that always
# fails. The run must complete with each task's numbers coming from the service: requests
# counted, percentiles within the service's real latencies, failures counted as misses,
# and the service inside its device's CPU budget while it runs (cgroup emulation).
#
# usage: external_lc_test.sh PATH_TO_deepedge
set -u
if [ $# -ne 1 ]; then
    echo "usage: $0 PATH_TO_deepedge" >&2
    exit 2
fi
DE=$1
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
de_test_begin external-lc
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 ASAN_OPTIONS=detect_leaks=0

python3 "$HERE/apps/tiny_lc_app.py" "$T/app.port" "$T/app.pid" "$T/app.log" 5 &
app=$!
for _ in $(seq 100); do [ -s "$T/app.port" ] && break; sleep 0.05; done
check "the application listens" [ -s "$T/app.port" ]
port=$(cat "$T/app.port")

cat >"$T/ext.cfg" <<CFG
name = "external-lc";
links = ( { name = "lan"; bandwidth_mbps = 1000.0; latency_ms = 0.1; } );
devices = (
  { name = "dev-a"; type = "emu-cpu-100"; link = "lan"; },
  { name = "dev-b"; type = "emu-cpu-050"; link = "lan"; }
);
lc_tasks = (
  { name = "web-probe"; device = "dev-a"; model = "edgenet-s"; rate = 20.0; deadline_ms = 250.0;
    service = { probe = "http"; address = "127.0.0.1:$port"; path = "/work"; pid_file = "app.pid"; }; },
  { name = "web-log"; device = "dev-a"; model = "edgenet-s"; rate = 20.0; deadline_ms = 250.0;
    service = { log = "app.log"; column = 2; unit = "ms"; interval_s = 0.2; }; },
  { name = "web-metrics"; device = "dev-a"; model = "edgenet-s"; rate = 20.0; deadline_ms = 250.0;
    service = { metrics = "http://127.0.0.1:$port/metrics"; histogram = "app_request_seconds"; interval_s = 0.5; }; },
  { name = "web-broken"; device = "dev-b"; model = "edgenet-s"; rate = 5.0; deadline_ms = 250.0;
    service = { probe = "http"; address = "127.0.0.1:$port"; path = "/fail"; }; }
);
jobs = ( { name = "update"; network = "edgenet-s"; dataset_size = 128; epochs = 6; global_batch = 16;
           checkpoint_interval = 8; checkpoint_cost_s = 0.05; } );
planner = { policy = "proportional"; };
exec = { dataset = "$T/ds"; synthesize = true; synth_classes = 4; synth_per_class = 40; lr = 0.005; seed = 3; };
CFG

# While the run trains, where does the application sit? (dev-a's cgroup under cgroup emulation)
( for _ in $(seq 200); do
      grep -q "run-" "/proc/$app/cgroup" 2>/dev/null && { cat "/proc/$app/cgroup" >"$T/app.cgroup"; break; }
      sleep 0.1
  done ) &
"$DE" run "$T/ext.cfg" --out "$T/out" --quiet --no-plot --lc-warmup 0.5 >"$T/run.out" 2>&1
rc=$?
check "the run next to the application completes (exit 0)" [ $rc -eq 0 ]
[ $rc -eq 0 ] || tail -20 "$T/run.out" | sed 's/^/  /'
check "each task's numbers come from the service" python3 - "$T/out/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
t = {x["name"]: x for x in s["lc_tasks"]}
probe, log, met, broken = t["web-probe"], t["web-log"], t["web-metrics"], t["web-broken"]
assert probe["served_by"] == "probe http" and log["served_by"] == "log" and met["served_by"] == "metrics", t
assert probe["requests"] > 40 and probe["failed"] == 0, probe
# the probe times the whole request (connect, Python's handler, 5 ms of work): above 5 ms.
# No bound on how late: next to training in one core's budget (and under ASan) it varies.
assert 0.005 <= probe["p50_s"] < 1.0, probe
# the log and the histogram see the probe's requests, timed inside the service (5 ms of work)
for x in (log, met):
    assert abs(x["requests"] - probe["requests"]) <= 0.25 * probe["requests"] + 10, (x, probe)
    assert x["failed"] == 0, x
assert 0.0049 <= log["p50_s"] < 1.0, log
# the histogram reads each request at its bucket's upper bound (bounds grow by 2-2.5x)
assert 0.9 * log["p95_s"] <= met["p95_s"] <= 2.6 * log["p95_s"] + 0.005, (met, log)
# every request of the failing path failed, and counts as a miss
assert broken["requests"] > 5 and broken["failed"] == broken["requests"] == broken["requests_over_deadline"], broken
PY
if grep -q "cgroup" "$T/out/events.csv" && ! grep -q "duty-cycle throttling instead" "$T/out/events.csv"; then
    check "the application ran inside dev-a's CPU budget" grep -q "dev-a" "$T/app.cgroup"
    check "and left it when the run ended" bash -c "! grep -q 'run-' /proc/$app/cgroup"
fi
check "the application outlives the run (deepedge stops only what it started)" kill -0 $app
kill $app 2>/dev/null

# A task whose service cannot be reached is reported, not hidden.
sed -e "s/127.0.0.1:$port\"; path = \"\\/fail\"/127.0.0.1:1\"; path = \"\\/\"/" "$T/ext.cfg" >"$T/down.cfg"
python3 "$HERE/apps/tiny_lc_app.py" "$T/app2.port" "$T/app.pid" "$T/app.log" 5 &
app=$!
for _ in $(seq 100); do [ -s "$T/app2.port" ] && break; sleep 0.05; done
sed -i "s/127.0.0.1:$port/127.0.0.1:$(cat "$T/app2.port")/g" "$T/down.cfg"
"$DE" run "$T/down.cfg" --out "$T/down" --quiet --no-plot --lc-warmup 0.5 >"$T/down.out" 2>&1
check "a service that refuses every connection: every request failed" python3 -c "
import json; t = {x['name']: x for x in json.load(open('$T/down/summary.json'))['lc_tasks']}['web-broken']
assert t['requests'] > 5 and t['failed'] == t['requests'], t"
kill $app 2>/dev/null

# Bad service groups are refused with the file, line and key.
printf 'name = "x";\nlinks = ( { name = "l"; bandwidth_mbps = 1.0; latency_ms = 1.0; } );\ndevices = ( { name = "d"; type = "emu-cpu-100"; link = "l"; } );\nlc_tasks = ( { name = "t"; device = "d"; model = "edgenet-s"; rate = 1.0; deadline_ms = 10.0;\n  service = { probe = "udp"; address = "h:1"; }; } );\njobs = ( { name = "j"; network = "edgenet-s"; dataset_size = 10; epochs = 1; global_batch = 2; } );\n' >"$T/bad.cfg"
"$DE" scenario show "$T/bad.cfg" >/dev/null 2>"$T/bad.err"
check "an unknown probe is refused naming the file, line and key" grep -q "bad.cfg:5.*probe.*udp" "$T/bad.err"
sed -i 's/probe = "udp"; address = "h:1";/log = "x.log"; metrics = "http:\/\/h\/m";/' "$T/bad.cfg"
"$DE" scenario show "$T/bad.cfg" >/dev/null 2>"$T/bad2.err"
check "two ways to observe one service are refused" grep -q "exactly one of 'probe'" "$T/bad2.err"
de_test_end
