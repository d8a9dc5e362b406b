#!/usr/bin/env bash
# Load benchmark: lbd against HAProxy 2.6 on the same configuration, the same
# nginx backend and the same wrk load, each proxy pinned to one core.
#
#   bash benches/load.sh [rounds] [seconds-per-run]
#
# Needs: haproxy, nginx, wrk, valgrind (apt-get install -y haproxy nginx-light
# wrk valgrind). Prints, per scenario and proxy, the median over interleaved
# rounds of requests/s, p50 latency, proxy CPU time per request (from
# /proc/<pid>/stat), and instructions per request counted by callgrind
# (hardware counters are not available on every VM; callgrind's count is
# exact and repeatable). Instructions per request are taken as the difference
# of two callgrind runs of different lengths, so start-up work cancels out.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${1:-3}
PROXIES=${PROXIES:-lbd haproxy}
SECONDS_PER_RUN=${2:-5}
PROXY_CPU=0
LOAD_CPU=1
for tool in haproxy nginx wrk valgrind taskset; do
    command -v "$tool" >/dev/null || { echo "load.sh: $tool is missing" >&2; exit 1; }
done

cargo build --release --quiet
LBD=$PWD/target/release/lbd
WORK=$(mktemp -d /tmp/lbd-load.XXXXXX)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]:-}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

wait_port() {
    for _ in $(seq 600); do
        (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
        sleep 0.05
    done
    echo "load.sh: nothing listens on port $1" >&2
    return 1
}

# --- the backend: nginx with a small page, 64 KiB and 1 MiB files -------------
NGINX_PORT=$(free_port)
mkdir -p "$WORK/nginx/www" "$WORK/nginx/logs"
printf 'hello\n' > "$WORK/nginx/www/small"
head -c 65536 /dev/zero | tr '\0' x > "$WORK/nginx/www/64k"
head -c 1048576 /dev/zero | tr '\0' y > "$WORK/nginx/www/1m"
cat > "$WORK/nginx/nginx.conf" <<NGINX
daemon off;
master_process off;
worker_processes 1;
error_log $WORK/nginx/logs/error.log;
pid $WORK/nginx/nginx.pid;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        root $WORK/nginx/www;
    }
}
NGINX
taskset -c $LOAD_CPU nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" &
PIDS+=($!)
wait_port "$NGINX_PORT"

# --- one configuration for both proxies ---------------------------------------
HTTP_PORT=$(free_port)
TCP_PORT=$(free_port)
cat > "$WORK/bench.cfg" <<CFG
global
    nbthread 1
    maxconn 4000

defaults
    timeout connect 5s
    timeout client 30s
    timeout server 30s

frontend http-in
    mode http
    bind 127.0.0.1:$HTTP_PORT
    default_backend web

backend web
    mode http
    server nginx 127.0.0.1:$NGINX_PORT

listen tcp-in
    mode tcp
    bind 127.0.0.1:$TCP_PORT
    server nginx 127.0.0.1:$NGINX_PORT
CFG

start_proxy() { # name [wrapper...] -> pid in PROXY_PID
    local name=$1
    shift
    case $name in
        lbd) taskset -c $PROXY_CPU "$@" "$LBD" -f "$WORK/bench.cfg" >"$WORK/$name.log" 2>&1 & ;;
        haproxy) taskset -c $PROXY_CPU "$@" haproxy -db -f "$WORK/bench.cfg" >"$WORK/$name.log" 2>&1 & ;;
    esac
    PROXY_PID=$!
    PIDS+=("$PROXY_PID")
    wait_port "$HTTP_PORT"
    wait_port "$TCP_PORT"
}

stop_proxy() {
    kill "$PROXY_PID" 2>/dev/null || true
    wait "$PROXY_PID" 2>/dev/null || true
}

cpu_ticks() { # utime+stime of a pid, in clock ticks
    awk '{print $14 + $15}' "/proc/$1/stat"
}

# scenario -> wrk arguments
scenario_args() {
    case $1 in
        keepalive) echo "-c 50 http://127.0.0.1:$HTTP_PORT/small" ;;
        newconn) echo "-c 50 -H Connection:close http://127.0.0.1:$HTTP_PORT/small" ;;
        64k) echo "-c 20 http://127.0.0.1:$HTTP_PORT/64k" ;;
        tcpbulk) echo "-c 10 http://127.0.0.1:$TCP_PORT/1m" ;;
    esac
}

run_wrk() { # seconds scenario -> "requests p50_ms"
    local out
    # shellcheck disable=SC2046
    out=$(taskset -c $LOAD_CPU wrk -t 1 -d "${1}s" --latency $(scenario_args "$2"))
    local requests p50
    requests=$(echo "$out" | awk '/requests in/ {print $1}')
    p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
    echo "$requests $p50"
}

SCENARIOS="keepalive newconn 64k tcpbulk"
TICK=$(getconf CLK_TCK)
RESULTS=$WORK/results.txt
: > "$RESULTS"

for round in $(seq "$ROUNDS"); do
    for proxy in $PROXIES; do
        start_proxy "$proxy"
        for s in $SCENARIOS; do
            before=$(cpu_ticks "$PROXY_PID")
            read -r requests p50 < <(run_wrk "$SECONDS_PER_RUN" "$s")
            after=$(cpu_ticks "$PROXY_PID")
            echo "$s $proxy $round $requests $p50 $((after - before))" >> "$RESULTS"
        done
        stop_proxy
    done
done

# Instructions per request under callgrind: two runs of different lengths.
for proxy in $PROXIES; do
    for s in $SCENARIOS; do
        for secs in 2 6; do
            start_proxy "$proxy" valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.$proxy.$s.$secs" -q
            read -r requests _ < <(run_wrk "$secs" "$s")
            stop_proxy
            sleep 0.5
            ir=$(callgrind_annotate "$WORK/cg.$proxy.$s.$secs" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
            echo "IR $s $proxy $secs $requests $ir" >> "$RESULTS"
        done
    done
done

python3 - "$RESULTS" "$SECONDS_PER_RUN" "$TICK" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
secs, tick = float(sys.argv[2]), float(sys.argv[3])
def ms(t):
    t = t.strip()
    for unit, f in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if t.endswith(unit):
            return float(t[: -len(unit)]) * f
    return float(t)
stats = {}
for r in rows:
    if r[0] == "IR":
        continue
    s, p, _, req, p50, ticks = r
    req = int(req)
    stats.setdefault((s, p), []).append((req / secs, ms(p50), int(ticks) / tick * 1e6 / max(req, 1)))
ir = {}
for r in rows:
    if r[0] != "IR" or len(r) < 6:
        continue
    _, s, p, sec, req, total = r
    ir.setdefault((s, p), {})[int(sec)] = (int(req), int(total))
def ipr(s, p):
    runs = ir.get((s, p), {})
    if 2 not in runs or 6 not in runs:
        return float("nan")
    (r1, i1), (r2, i2) = runs[2], runs[6]
    return (i2 - i1) / max(r2 - r1, 1)
print(f"{'scenario':10} {'proxy':8} {'req/s':>9} {'p50 ms':>7} {'cpu us/req':>10} {'instr/req':>10}")
for s in "keepalive newconn 64k tcpbulk".split():
    line = {}
    for p in ("lbd", "haproxy"):
        v = stats.get((s, p))
        if not v:
            continue
        rps = statistics.median(x[0] for x in v)
        p50 = statistics.median(x[1] for x in v)
        cpu = statistics.median(x[2] for x in v)
        line[p] = (rps, p50, cpu, ipr(s, p))
        print(f"{s:10} {p:8} {rps:9.0f} {p50:7.3f} {cpu:10.2f} {line[p][3]:10.0f}")
    if len(line) == 2:
        l, h = line["lbd"], line["haproxy"]
        print(f"{s:10} {'lbd/hap':8} {l[0]/h[0]:9.2f} {l[1]/h[1]:7.2f} {l[2]/h[2]:10.2f} {l[3]/h[3]:10.2f}")
PY
