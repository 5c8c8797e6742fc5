#!/usr/bin/env bash
# netns-hosts.sh — N emulated hosts on one machine: network namespaces joined by veth to a
# bridge, each link shaped with tc (tbf for bandwidth, netem for delay where the kernel has
# it), plus an OpenMPI hostfile and the mpiexec arguments that launch through them
# (scripts/netns-rsh is the rsh agent). Root only. See exec/README.md, "Multi-host on one
# machine (network namespaces)".
#
#   netns-hosts.sh up   --prefix dex --hosts 3 [--rate MBIT] [--delay MS]
#                       [--link I:MBIT:MS ...] [--slots K] [--subnet 10.77.0] [--hostfile F]
#   netns-hosts.sh down --prefix dex [--hostfile F] [--kill]
#   netns-hosts.sh args --prefix dex [--subnet ...] [--hostfile F]
#   netns-hosts.sh status --prefix dex
#   netns-hosts.sh check                 # exit 0 if this machine can do it, else 3 + reason
#
# up: namespaces dex0..dex{N-1} (hostname = namespace name, set by the agent), bridge "dexbr"
# with SUBNET.1/24 in the root namespace, veth "dexv<i>" (root end, on the bridge) <-> "eth0"
# in dex<i> with SUBNET.(10+i)/24, lo up, default route via SUBNET.1. Each host's link is
# shaped in both directions: egress of eth0 inside the namespace (host -> bridge) and egress of
# dexv<i> in the root namespace (bridge -> host). Rate 0 = unshaped, delay 0 = none.
# --link I:MBIT:MS overrides --rate/--delay for host I. Re-running up converges to the new
# description (creates what is missing, re-applies addresses and qdiscs, removes hosts >= N).
# stdout of up/args is exactly one line: the mpiexec arguments (messages go to stderr), so
#   args=$(scripts/netns-hosts.sh up --prefix dex --hosts 3) && mpiexec $args -n 3 prog
set -euo pipefail

me=netns-hosts.sh
die() { echo "$me: error: $*" >&2; exit 1; }
warn() { echo "$me: warning: $*" >&2; }
info() { echo "$me: $*" >&2; }

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
agent="$script_dir/netns-rsh"

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

# ---- arguments -------------------------------------------------------------------------
cmd=${1:-}; [ $# -gt 0 ] && shift
prefix="" hosts="" rate=0 delay=0 slots=1 subnet=10.77.0 hostfile="" kill=0
declare -A link_rate=() link_delay=()
need() { [ $# -ge 2 ] && [ -n "$2" ] || die "option $1 needs a value"; }
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) need "$@"; prefix=$2; shift 2 ;;
        --hosts) need "$@"; hosts=$2; shift 2 ;;
        --rate) need "$@"; rate=$2; shift 2 ;;
        --delay) need "$@"; delay=$2; shift 2 ;;
        --slots) need "$@"; slots=$2; shift 2 ;;
        --subnet) need "$@"; subnet=${2%/24}   # 10.77.0, 10.77.0.0 or 10.77.0.0/24
                  [[ "$subnet" =~ ^[0-9]+\.[0-9]+\.[0-9]+\.0$ ]] && subnet=${subnet%.0}; shift 2 ;;
        --hostfile) need "$@"; hostfile=$2; shift 2 ;;
        --link) need "$@"
                IFS=: read -r li lr ld extra <<<"$2"
                [ -z "${extra:-}" ] && [[ "$li" =~ ^[0-9]+$ ]] && [ -n "${lr:-}" ] ||
                    die "--link wants I:MBIT:MS (e.g. 1:100:2), got '$2'"
                link_rate[$li]=$lr; link_delay[$li]=${ld:-0}; shift 2 ;;
        --kill) kill=1; shift ;;
        -h|--help) usage ;;
        *) die "unknown argument '$1' (try --help)" ;;
    esac
done

num_re='^[0-9]+([.][0-9]+)?$'
check_prefix() {
    [ -n "$prefix" ] || die "--prefix is required"
    # Ends with a letter so that "<prefix><i>" never matches another prefix's hosts;
    # 10 characters keep "<prefix>v<i>" within the 15 of an interface name.
    [[ "$prefix" =~ ^[a-z]([a-z0-9]{0,8}[a-z])?$ ]] ||
        die "--prefix must be 1-10 lowercase letters/digits, starting and ending with a letter (got '$prefix')"
}
check_subnet() {
    [[ "$subnet" =~ ^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})$ ]] &&
        [ "${BASH_REMATCH[1]}" -le 255 ] && [ "${BASH_REMATCH[2]}" -le 255 ] && [ "${BASH_REMATCH[3]}" -le 255 ] ||
        die "--subnet wants the first three octets of a /24, e.g. 10.77.0 (got '$subnet')"
}
[ -n "$hostfile" ] || hostfile="${TMPDIR:-/tmp}/${prefix:-x}.hostfile"
bridge="${prefix}br"

mpiexec_args() {
    echo "--hostfile $hostfile --mca plm_rsh_agent $agent --mca plm_rsh_no_tree_spawn 1" \
         "--mca oob_tcp_if_include $subnet.0/24 --mca btl_tcp_if_include $subnet.0/24" \
         "--mca btl self,tcp --mca mpi_yield_when_idle 1"
}

# ---- capability check ------------------------------------------------------------------
# Prints the reason and returns 3 when this machine cannot host namespaces.
can_do() {
    local t
    [ "$(id -u)" -eq 0 ] || { echo "not root"; return 3; }
    for t in ip tc unshare hostname; do
        command -v "$t" >/dev/null 2>&1 || { echo "'$t' not installed"; return 3; }
    done
    ip netns list >/dev/null 2>&1 || { echo "'ip netns' not supported"; return 3; }
    t="nhchk$$x"
    if ! ip netns add "$t" 2>/dev/null; then echo "cannot create a network namespace"; return 3; fi
    local ok=0 why=""
    if ! ip link add "${t}a" type veth peer name "${t}b" 2>/dev/null; then why="cannot create veth pairs"
    elif ! ip link add "${t}c" type bridge 2>/dev/null; then why="cannot create a bridge"
    elif ! tc qdisc add dev "${t}a" root tbf rate 100mbit burst 32k latency 25ms 2>/dev/null; then
        why="tc cannot add a tbf qdisc (kernel without sch_tbf?)"
    elif ! ip netns exec "$t" unshare --uts -- hostname "$t" 2>/dev/null; then
        why="cannot enter the namespace with a private hostname (unshare --uts)"
    else ok=1; fi
    ip link del "${t}a" 2>/dev/null || true
    ip link del "${t}c" 2>/dev/null || true
    ip netns del "$t" 2>/dev/null || true
    [ $ok -eq 1 ] || { echo "$why"; return 3; }
    return 0
}

netem_ok=""
have_netem() {     # probed once, on a throwaway veth pair in the root namespace
    if [ -z "$netem_ok" ]; then
        netem_ok=0
        local t="nhnm$$x"
        if ip link add "${t}a" type veth peer name "${t}b" 2>/dev/null; then
            tc qdisc add dev "${t}a" root netem delay 1ms 2>/dev/null && netem_ok=1
            ip link del "${t}a" 2>/dev/null || true
        fi
    fi
    [ "$netem_ok" -eq 1 ]
}

# ---- shaping ---------------------------------------------------------------------------
# shape NETNS|"" DEV MBIT MS: replace the root qdisc of DEV (in namespace NETNS, or the root
# namespace when empty).
shape() {
    local ns=$1 dev=$2 r=$3 d=$4
    local -a TC=(tc); [ -n "$ns" ] && TC=(ip netns exec "$ns" tc)
    "${TC[@]}" qdisc del dev "$dev" root 2>/dev/null || true
    local use_netem=0
    if awk -v d="$d" 'BEGIN{exit !(d > 0)}'; then
        if have_netem; then use_netem=1
        else warn "delay ${d} ms on $dev not applied: the kernel has no sch_netem (CONFIG_NET_SCH_NETEM); bandwidth only"; fi
    fi
    local parent="root"
    if [ $use_netem -eq 1 ]; then
        "${TC[@]}" qdisc add dev "$dev" root handle 1: netem delay "${d}ms" limit 100000 ||
            die "tc netem on $dev failed"
        parent="parent 1:1"
    fi
    if awk -v r="$r" 'BEGIN{exit !(r > 0)}'; then
        # burst: 1 ms worth of the rate, at least 32 KiB (several MTUs; one GSO segment is cut
        # by tbf itself); queue: 25 ms worth at the rate.
        local burst
        burst=$(awk -v r="$r" 'BEGIN{b = r * 1e6 / 8 * 0.001; if (b < 32768) b = 32768; printf "%d", b}')
        # shellcheck disable=SC2086
        "${TC[@]}" qdisc add dev "$dev" $parent handle 10: tbf rate "${r}mbit" burst "$burst" latency 25ms ||
            die "tc tbf on $dev failed (rate ${r} Mbit/s)"
    fi
}

# ---- up / down -------------------------------------------------------------------------
ns_exists() { [ -e "/run/netns/$1" ]; }
link_exists() { ip link show dev "$1" >/dev/null 2>&1; }

our_namespaces() { ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^${prefix}[0-9]+$" || true; }

remove_host() {      # remove_host NAME INDEX
    local ns=$1 i=$2 pids
    if ns_exists "$ns"; then
        pids=$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ' || true)
        if [ -n "${pids// /}" ]; then
            if [ $kill -eq 1 ]; then info "killing processes in $ns: $pids"
                # shellcheck disable=SC2086
                kill -TERM $pids 2>/dev/null || true
            else warn "processes still run in $ns ($pids); the namespace lives on until they exit (--kill ends them)"; fi
        fi
        ip netns del "$ns" || warn "could not delete namespace $ns"
    fi
    # The veth pair normally vanishes with the namespace (asynchronously).
    ip link del "${prefix}v$i" 2>/dev/null || true
    return 0
}

do_down() {
    check_prefix
    local ns i l
    for ns in $(our_namespaces); do remove_host "$ns" "${ns#"$prefix"}"; done
    for l in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' | grep -E "^${prefix}v[0-9]+$" || true); do
        ip link del "$l" 2>/dev/null || true
    done
    link_exists "$bridge" && { ip link del "$bridge" || warn "could not delete bridge $bridge"; }
    rm -f "$hostfile"
    info "down: prefix '$prefix' removed"
}

do_up() {
    check_prefix; check_subnet
    [[ "$hosts" =~ ^[0-9]+$ ]] && [ "$hosts" -ge 1 ] && [ "$hosts" -le 200 ] || die "--hosts wants 1..200 (got '${hosts:-nothing}')"
    [[ "$slots" =~ ^[0-9]+$ ]] && [ "$slots" -ge 1 ] || die "--slots wants a positive integer"
    [[ "$rate" =~ $num_re ]] || die "--rate wants Mbit/s, e.g. 100 (got '$rate')"
    [[ "$delay" =~ $num_re ]] || die "--delay wants milliseconds, e.g. 2 or 0.1 (got '$delay')"
    local i
    for i in "${!link_rate[@]}"; do
        [ "$i" -lt "$hosts" ] || die "--link $i: there are only $hosts hosts (0..$((hosts - 1)))"
        [[ "${link_rate[$i]}" =~ $num_re ]] && [[ "${link_delay[$i]}" =~ $num_re ]] ||
            die "--link $i: rate and delay must be numbers"
    done
    local why
    why=$(can_do) || die "cannot build namespaced hosts here: $why"

    # The subnet must not be in use by anything but our bridge.
    local clash
    clash=$(ip -o -4 addr show | awk -v s="$subnet." -v b="$bridge" 'index($4, s) == 1 && $2 != b {print $2}' | sort -u | tr '\n' ' ')
    [ -z "$clash" ] || die "subnet $subnet.0/24 already used by: $clash(choose another with --subnet)"

    # Hosts beyond N from an earlier up.
    local ns
    for ns in $(our_namespaces); do
        [ "${ns#"$prefix"}" -ge "$hosts" ] && remove_host "$ns" "${ns#"$prefix"}"
    done

    if ! link_exists "$bridge"; then ip link add "$bridge" type bridge || die "cannot create bridge $bridge"; fi
    ip addr replace "$subnet.1/24" dev "$bridge"
    ip link set "$bridge" up

    local hf_tmp="$hostfile.tmp.$$"
    : >"$hf_tmp" || die "cannot write $hostfile"
    for ((i = 0; i < hosts; i++)); do
        ns="$prefix$i"
        local rv="${prefix}v$i" ip="$subnet.$((10 + i))"
        ns_exists "$ns" || ip netns add "$ns" || die "cannot create namespace $ns"
        if ! link_exists "$rv" || ! ip netns exec "$ns" ip link show dev eth0 >/dev/null 2>&1; then
            link_exists "$rv" && ip link del "$rv"
            ip netns exec "$ns" ip link del eth0 2>/dev/null || true
            ip link add "$rv" type veth peer name "${prefix}p$i" netns "$ns" || die "cannot create veth $rv"
            ip netns exec "$ns" ip link set "${prefix}p$i" name eth0
        fi
        ip link set "$rv" master "$bridge"
        ip link set "$rv" up
        ip netns exec "$ns" ip link set lo up
        ip netns exec "$ns" ip addr flush dev eth0 scope global
        ip netns exec "$ns" ip addr add "$ip/24" dev eth0
        ip netns exec "$ns" ip link set eth0 up
        ip netns exec "$ns" ip route replace default via "$subnet.1"
        local r=${link_rate[$i]:-$rate} d=${link_delay[$i]:-$delay}
        shape "$ns" eth0 "$r" "$d"     # host -> bridge
        shape "" "$rv" "$r" "$d"       # bridge -> host
        info "host $ns: $ip, link $( [ "$r" = 0 ] && echo unshaped || echo "${r} Mbit/s" ), delay ${d} ms$( awk -v d="$d" 'BEGIN{exit !(d > 0)}' && ! have_netem && echo " (not applied)")"
        echo "$ns slots=$slots" >>"$hf_tmp"
    done
    mv -f "$hf_tmp" "$hostfile"
    info "hostfile $hostfile; mpirun reaches the daemons from $subnet.1 on $bridge"
    info "run as root with OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1"
    mpiexec_args
}

do_status() {
    check_prefix
    local ns
    for ns in $(our_namespaces); do
        echo "== $ns"
        ip netns exec "$ns" ip -4 -o addr show dev eth0 2>/dev/null | awk '{print "   " $4}'
        ip netns exec "$ns" tc qdisc show dev eth0 2>/dev/null | sed 's/^/   out: /'
        tc qdisc show dev "${prefix}v${ns#"$prefix"}" 2>/dev/null | sed 's/^/   in:  /'
    done
    link_exists "$bridge" && ip -4 -o addr show dev "$bridge" | awk '{print "== bridge " $2 " " $4}'
    return 0
}

case "$cmd" in
    up) do_up ;;
    down) do_down ;;
    args) check_prefix; check_subnet; mpiexec_args ;;
    status) do_status ;;
    check) why=$(can_do) || { echo "$why"; exit 3; }; echo "ok$(have_netem || echo ' (no sch_netem: delays cannot be emulated)')" ;;
    ""|-h|--help|help) usage ;;
    *) die "unknown command '$cmd' (up, down, args, status, check)" ;;
esac
