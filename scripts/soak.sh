#!/usr/bin/env bash
# soak.sh — long runs with memory and open files sampled: do they stay flat?
#
#   scripts/soak.sh sim [HOURS] [OUT]     a generated 1,000-device cluster (500 LC tasks at up to
#                                         20 req/s, every request simulated, a crash and a repair
#                                         every simulated hour) over HOURS simulated hours
#                                         (default 168, a week)
#   scripts/soak.sh run [MINUTES] [OUT]   `deepedge run` for MINUTES (default 30) on three emulated
#                                         devices: an LC load change every 2 minutes, a crash
#                                         every 5 minutes (repaired a minute later), then Ctrl-C
#
# Every SOAK_EVERY seconds (default 10), each process is sampled: the command, and for
# run its mpiexec, its worker ranks and its LC services. A sample is the resident memory
# (VmRSS) and the count of open file descriptors. They go to OUT/soak.csv. The end prints,
# per role and in total, the first and last quarter of the run (after a 10 % warm-up),
# side by side, with a verdict. OUT/soak.png draws them. Build first (make build);
# DEEPEDGE overrides build/deepedge.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DE=${DEEPEDGE:-$ROOT/build/deepedge}
EVERY=${SOAK_EVERY:-10}
what=${1:-}
case "$what" in
sim) LEN=${2:-168}; OUT=$(realpath -m "${3:-out/soak-sim}") ;;
run) LEN=${2:-30}; OUT=$(realpath -m "${3:-out/soak-run}") ;;
*) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
[ -x "$DE" ] || { echo "soak.sh: $DE is missing (make build)" >&2; exit 2; }
rm -rf "$OUT"
mkdir -p "$OUT"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1

if [ "$what" = sim ]; then
    "$DE" scenario generate --devices 1000 --lc-tasks 500 --max-rate 20 --seed 11 -o "$OUT/cluster.cfg" >/dev/null || exit 1
    # a crash of a device every simulated hour, repaired 20 minutes later (the fault trace
    # names generated devices; the generator calls them dev-0001 ...)
    dev=$(grep -o 'name = "[^"]*"; type' "$OUT/cluster.cfg" | sed -n '1p;2p;3p;5p;8p' | cut -d'"' -f2)
    { echo "time_s,device,kind,repair_s,factor"
      h=1; while [ $h -lt "$LEN" ]; do
          d=$(echo "$dev" | sed -n "$(( (h % 5) + 1 ))p"); echo "$((h * 3600)),$d,crash,1200,"; h=$((h + 1)); done
    } >"$OUT/faults.csv"
    echo 'fault_trace = "faults.csv";' >>"$OUT/cluster.cfg"
    cmd=("$DE" sim "$OUT/cluster.cfg" --until $((LEN * 3600)) --out "$OUT/sim" --no-plot)
    echo "soak sim: 1000 devices, 500 LC tasks, $LEN simulated hours, a crash an hour; sampled every $EVERY s"
else
    total=$((LEN * 60))
    { echo "time_s,rate_rps"; t=0; while [ $t -le $((total + 600)) ]; do
          echo "$t,$(( (t / 120) % 2 ? 40 : 10 ))"; t=$((t + 120)); done; } >"$OUT/cam-rate.csv"
    first=$((total < 450 ? total / 3 : 150)) # a short soak still crashes once
    { echo "time_s,device,kind,repair_s,factor"; t=$first; while [ $t -lt "$total" ]; do
          echo "$t,edge-c,crash,60,"; t=$((t + 300)); done; } >"$OUT/faults.csv"
    cat >"$OUT/soak.cfg" <<CFG
name = "soak-run";
links = ( { name = "lan"; bandwidth_mbps = 1000.0; latency_ms = 0.2; } );
devices = ( { name = "edge-a"; type = "emu-cpu-100"; link = "lan"; },
            { name = "edge-b"; type = "emu-cpu-050"; link = "lan"; },
            { name = "edge-c"; type = "emu-cpu-025"; link = "lan"; } );
lc_tasks = ( { name = "cam-a"; device = "edge-a"; model = "edgenet-s"; rate_trace = "cam-rate.csv"; deadline_ms = 60.0; },
             { name = "cam-b"; device = "edge-b"; model = "edgenet-s"; rate = 10.0; deadline_ms = 80.0; } );
jobs = ( { name = "update"; network = "edgenet-s"; dataset_size = 288; epochs = 5000; global_batch = 32;
           checkpoint_interval = 20; checkpoint_cost_s = 0.02; } );
planner = { policy = "deep-edge"; };
fault_trace = "faults.csv";
exec = { dataset = "$OUT/ds"; synthesize = true; synth_classes = 6; synth_per_class = 60; val_frac = 0.2;
         lr = 0.005; seed = 7; threads = 1; };
CFG
    cmd=("$DE" run "$OUT/soak.cfg" --out "$OUT/run" --quiet --no-plot --max-restarts 100 --lc-warmup 1)
    echo "soak run: 3 emulated devices, 2 LC services, $LEN minutes, LC load 10 <-> 40 req/s every 2 min, a crash every 5 min; sampled every $EVERY s"
fi

"${cmd[@]}" >"$OUT/stdout" 2>"$OUT/stderr" &
main=$!
role_of() { # role_of PID: coordinator, mpiexec, worker-rankN, lc-TASK
    local p=$1 cl
    [ "$p" = "$main" ] && { echo "$what"; return; }
    cl=$(tr '\0' ' ' </proc/$p/cmdline 2>/dev/null)
    case "$cl" in
    *mpiexec*) echo mpiexec ;;
    *" _worker "*) echo "worker-rank$(tr '\0' '\n' </proc/$p/environ 2>/dev/null | sed -n 's/^OMPI_COMM_WORLD_RANK=//p')" ;;
    *" _lc "*) echo "lc-$(echo "$cl" | sed -n 's/.*--task \([^ ]*\).*/\1/p')" ;;
    *) echo other ;;
    esac
}
echo "time_s,role,pid,rss_kb,fds" >"$OUT/soak.csv"
t0=$(date +%s)
deadline=$((t0 + LEN * 60)) # run only
while kill -0 $main 2>/dev/null; do
    now=$(date +%s)
    for p in $( (echo $main; pgrep -f "$OUT/") | grep -vx "$$" | sort -u); do
        [ -r /proc/$p/status ] || continue
        rss=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' /proc/$p/status 2>/dev/null)
        fds=$(ls /proc/$p/fd 2>/dev/null | wc -l)
        r=$(role_of $p)
        [ -n "$rss" ] && [ "$r" != other ] && echo "$((now - t0)),$r,$p,$rss,$fds" >>"$OUT/soak.csv"
    done
    if [ "$what" = run ] && [ "$now" -ge $deadline ]; then
        kill -INT $main # Ctrl-C: checkpoint and stop
        break
    fi
    sleep "$EVERY"
done
wait $main
rc=$?
ended=$(($(date +%s) - t0))
echo "exit status $rc after $ended s; outputs in $OUT"
if [ "$what" = run ] && [ $ended -lt $((LEN * 60)) ]; then
    echo "soak.sh: the run ended before the soak did; its last words:" >&2
    tail -5 "$OUT/stderr" >&2
    exit 1
fi
if [ "$what" = sim ] && [ $rc -ne 0 ] && [ $rc -ne 2 ]; then # 2: a deadline missed, still a finished simulation
    tail -5 "$OUT/stderr" >&2
    exit 1
fi

# Per role: the first and last quarter after a 10 % warm-up, and the total per sample time.
awk -F, -v out="$OUT" '
NR == 1 { next }
{ t[NR] = $1; role[NR] = $2; rss[NR] = $4; fds[NR] = $5; n = NR; if ($1 > tmax) tmax = $1
  tot_rss[$1] += $4; tot_fds[$1] += $5; seen[$2] = 1 }
END {
    w = 0.1 * tmax; q1 = w + 0.225 * tmax; q4 = tmax - 0.225 * tmax
    for (i = 2; i <= n; i++) {
        r = role[i]
        if (t[i] < w) continue
        if (t[i] <= q1) { a_r[r] += rss[i]; a_n[r]++; if (fds[i] > a_f[r]) a_f[r] = fds[i] }
        if (t[i] >= q4) { b_r[r] += rss[i]; b_n[r]++; if (fds[i] > b_f[r]) b_f[r] = fds[i] }
        if (rss[i] > mx[r]) mx[r] = rss[i]
    }
    for (s in tot_rss) {
        s += 0
        if (s < w) continue
        if (s <= q1) { a_r["TOTAL"] += tot_rss[s]; a_n["TOTAL"]++; if (tot_fds[s] > a_f["TOTAL"]) a_f["TOTAL"] = tot_fds[s] }
        if (s >= q4) { b_r["TOTAL"] += tot_rss[s]; b_n["TOTAL"]++; if (tot_fds[s] > b_f["TOTAL"]) b_f["TOTAL"] = tot_fds[s] }
        if (tot_rss[s] > mx["TOTAL"]) mx["TOTAL"] = tot_rss[s]
    }
    seen["TOTAL"] = 1
    printf "\n%.0f s sampled; first quarter %.0f-%.0f s, last quarter %.0f-%.0f s (after %.0f s of warm-up)\n", tmax, w, q1, q4, tmax, w
    printf "%-16s %12s %12s %8s %10s %10s %10s  %s\n", "role", "rss_first_MB", "rss_last_MB", "growth", "rss_max_MB", "fds_first", "fds_last", "verdict"
    bad = 0
    for (r in seen) {
        if (!a_n[r] || !b_n[r]) continue
        a = a_r[r] / a_n[r] / 1024; b = b_r[r] / b_n[r] / 1024
        g = a > 0 ? 100 * (b - a) / a : 0
        ok = (b - a <= 0.05 * a + 2) && (b_f[r] <= a_f[r] + 2)
        if (!ok) bad = 1
        printf "%-16s %12.1f %12.1f %7.1f%% %10.1f %10d %10d  %s\n", r, a, b, g, mx[r] / 1024, a_f[r], b_f[r], ok ? "flat" : "GROWS"
    }
    exit bad
}' "$OUT/soak.csv"
flat=$?

# The figure: resident memory and open files of each role over time.
if command -v gnuplot >/dev/null; then
    for r in $(cut -d, -f2 "$OUT/soak.csv" | sed 1d | sort -u); do
        awk -F, -v r="$r" '$2 == r { print $1 / 60, $4 / 1024, $5 }' "$OUT/soak.csv" >"$OUT/soak-$r.dat"
    done
    {
        echo "set terminal pngcairo size 1100,700; set output '$OUT/soak.png'"
        echo "set multiplot layout 2,1 title 'soak $what: $LEN $([ "$what" = sim ] && echo 'simulated hours' || echo minutes)'"
        echo "set xlabel 'wall time (min)'; set ylabel 'resident memory (MB)'; set key outside right; set grid; set yrange [0:*]"
        printf "plot "
        for f in "$OUT"/soak-*.dat; do n=$(basename "$f" .dat); printf "'%s' using 1:2 with lines title '%s', " "$f" "${n#soak-}"; done
        echo ""
        echo "set ylabel 'open file descriptors'"
        printf "plot "
        for f in "$OUT"/soak-*.dat; do n=$(basename "$f" .dat); printf "'%s' using 1:3 with lines title '%s', " "$f" "${n#soak-}"; done
        echo ""
    } | sed 's/, $//' >"$OUT/soak.gp"
    gnuplot "$OUT/soak.gp" && echo "figure: $OUT/soak.png"
fi
[ $flat -eq 0 ] && echo "verdict: flat (last quarter within 5 % + 2 MB of the first, open files within 2)" ||
    echo "verdict: something grows (above)"
exit $flat
