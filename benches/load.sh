#!/usr/bin/env bash
# Load benchmark: lbd against HAProxy on the same configuration, nginx as the
# backend, wrk as the client, loopback only.
#
# The proxy under test runs one thread pinned to one core (taskset -c $CORE);
# wrk and nginx share the other core. Rounds interleave the two proxies
# (lbd, haproxy, haproxy, lbd, ...) so that drift of the machine affects both.
# For each scenario it prints requests/s, median latency, and the proxy's CPU
# time per request (utime+stime from /proc, divided by the requests served).
#
# Scenarios: keep-alive small responses, a new connection per request, 64 KiB
# responses, and tcp-mode bulk transfer (1 MiB responses through `mode tcp`).
#
# Instructions per request: hardware counters (perf stat) are not available on
# this VM, so with CALLGRIND=1 each proxy also runs under
# `valgrind --tool=callgrind` for two request counts, and the difference of the
# instruction totals divided by the difference of requests is printed (startup
# cancels out).
#
# Usage: benches/load.sh            (DUR=5s ROUNDS=3 CONNS=32 CORE=0 LOADCORE=1)
#        CALLGRIND=1 benches/load.sh
set -euo pipefail
cd "$(dirname "$0")/.."

DUR=${DUR:-5s}
ROUNDS=${ROUNDS:-3}
CONNS=${CONNS:-32}
CORE=${CORE:-0}
LOADCORE=${LOADCORE:-1}
LBD=${LBD:-target/release/lbd}

for tool in haproxy nginx wrk taskset python3; do
    command -v "$tool" >/dev/null || { echo "load.sh: '$tool' is missing" >&2; exit 1; }
done
[ -x "$LBD" ] || cargo build --release --quiet

work=$(mktemp -d /tmp/lbd-load.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.05
    done
    echo "load.sh: nothing listens on $1" >&2; return 1
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

NG=$(free_port); PH=$(free_port); PT=$(free_port)
mkdir -p "$work/www"
head -c 65536 /dev/zero | tr '\0' 'x' > "$work/www/64k"
head -c 1048576 /dev/zero | tr '\0' 'y' > "$work/www/1m"
cat > "$work/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx.err;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$NG;
        root $work/www;
        location = /small { return 200 "hello\n"; }
    }
}
NGINX
taskset -c "$LOADCORE" nginx -c "$work/nginx.conf" -e "$work/nginx.err" &
pids+=($!)
wait_port "$NG"

cat > "$work/lb.cfg" <<CFG
global
    maxconn 20000
    nbthread 1
defaults
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend fh
    bind 127.0.0.1:$PH
    mode http
    default_backend app
backend app
    mode http
    server n 127.0.0.1:$NG
listen bulk
    bind 127.0.0.1:$PT
    mode tcp
    server n 127.0.0.1:$NG
CFG

start_proxy() { # name → pid on stdout
    case $1 in
        lbd) taskset -c "$CORE" "$LBD" -f "$work/lb.cfg" >"$work/lbd.log" 2>&1 & ;;
        haproxy) taskset -c "$CORE" haproxy -db -f "$work/lb.cfg" >"$work/haproxy.log" 2>&1 & ;;
    esac
    echo $!
}

# scenario name → wrk arguments
scenario_args() {
    case $1 in
        ka_small) echo "http://127.0.0.1:$PH/small" ;;
        close_small) echo "-H Connection:close http://127.0.0.1:$PH/small" ;;
        ka_64k) echo "http://127.0.0.1:$PH/64k" ;;
        tcp_1m) echo "http://127.0.0.1:$PT/1m" ;;
    esac
}
SCENARIOS="ka_small close_small ka_64k tcp_1m"
CLK=$(getconf CLK_TCK)

results="$work/results"
: > "$results"
for round in $(seq "$ROUNDS"); do
    if [ $((round % 2)) = 1 ]; then order="lbd haproxy"; else order="haproxy lbd"; fi
    for proxy in $order; do
        pid=$(start_proxy "$proxy")
        pids+=("$pid")
        wait_port "$PH"; wait_port "$PT"
        for sc in $SCENARIOS; do
            # shellcheck disable=SC2046
            before=$(cpu_ticks "$pid")
            out=$(taskset -c "$LOADCORE" wrk -t1 -c"$CONNS" -d"$DUR" --latency $(scenario_args "$sc") 2>&1)
            after=$(cpu_ticks "$pid")
            rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
            reqs=$(awk '/requests in/ {print $1}' <<<"$out")
            p50=$(awk '$1=="50%" {v=$2; if (v ~ /us$/) {sub("us","",v); v/=1000} else if (v ~ /ms$/) {sub("ms","",v)} else if (v ~ /s$/) {sub("s","",v); v*=1000}; print v}' <<<"$out")
            errs=$(awk '/Non-2xx|Socket errors/ {print}' <<<"$out" | tr '\n' ' ')
            cpu_us=$(awk -v a="$before" -v b="$after" -v n="$reqs" -v t="$CLK" 'BEGIN { if (n > 0) printf "%.1f", (b - a) / t * 1e6 / n; else print "nan" }')
            echo "$round $proxy $sc $rps $p50 $cpu_us $errs" >> "$results"
        done
        kill "$pid"; wait "$pid" 2>/dev/null || true
    done
done

echo "# $(nproc) cores, $(uname -r); proxy pinned to core $CORE, wrk+nginx on core $LOADCORE; $ROUNDS rounds × $DUR, $CONNS connections"
printf '%-12s %-8s %12s %10s %14s\n' scenario proxy "req/s(med)" "p50 ms" "cpu µs/req"
for sc in $SCENARIOS; do
    for proxy in lbd haproxy; do
        awk -v sc="$sc" -v px="$proxy" '$2==px && $3==sc {print $4, $5, $6}' "$results" | sort -n | awk -v sc="$sc" -v px="$proxy" '
            {r[NR]=$1; l[NR]=$2; c[NR]=$3}
            END { m=int((NR+1)/2); printf "%-12s %-8s %12.0f %10.3f %14s\n", sc, px, r[m], l[m], c[m] }'
    done
done
if grep -q -E "Non-2xx|Socket errors" "$results"; then
    echo "# errors seen:"; grep -E "Non-2xx|Socket errors" "$results"
fi

if [ "${CALLGRIND:-0}" = 1 ]; then
    command -v valgrind >/dev/null || { echo "valgrind missing"; exit 0; }
    echo "# instructions per keep-alive request (callgrind, difference of 300 and 1300 requests)"
    for proxy in lbd haproxy; do
        totals=()
        for n in 300 1300; do
            out="$work/cg.$proxy.$n"
            case $proxy in
                lbd) valgrind --tool=callgrind --callgrind-out-file="$out" "$LBD" -f "$work/lb.cfg" >/dev/null 2>&1 & ;;
                haproxy) valgrind --tool=callgrind --callgrind-out-file="$out" haproxy -db -f "$work/lb.cfg" >/dev/null 2>&1 & ;;
            esac
            vg=$!
            wait_port "$PH"
            python3 - "$PH" "$n" <<'PY'
import socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
s = socket.create_connection(("127.0.0.1", port))
f = s.makefile("rb")
for _ in range(n):
    s.sendall(b"GET /small HTTP/1.1\r\nHost: b\r\n\r\n")
    length = 0
    while True:
        line = f.readline()
        if line in (b"\r\n", b""):
            break
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    f.read(length)
PY
            kill -USR1 "$vg"; wait "$vg" 2>/dev/null || true
            totals+=("$(awk '/^summary:/ {print $2}' "$out"*)")
        done
        awk -v a="${totals[0]}" -v b="${totals[1]}" -v px="$proxy" 'BEGIN { printf "%-8s %10.0f instructions/request\n", px, (b - a) / 1000 }'
    done
fi
