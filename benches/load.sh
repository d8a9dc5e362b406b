#!/usr/bin/env bash
# Load benchmark: lbd against HAProxy 2.6 on the same configuration, and
# nginx as a reverse proxy, with the same nginx backend and the same wrk
# load, each proxy pinned to one core.
#
#   bash benches/load.sh [rounds] [seconds-per-run]
#
# Scenarios (SCENARIOS=... to pick some): keepalive, newconn, 64k, tcpbulk
# (a tcp listen without splice options), tcpsplice (the same with HAProxy's
# option splice-request and splice-response: lbd splices in both, nginx in
# neither), and TLS termination with an RSA 2048 certificate: tls-ka (requests over
# kept-alive TLS connections) and tls-full (full handshakes from four
# openssl s_time -new clients, since wrk keeps TLS sessions; its req/s is
# handshakes/s as far as the clients go, and 1e6 / cpu us/req is what one
# core of the proxy can do). Each proxy runs one thread on one core: the
# numbers are per core. PROXIES=... picks among lbd, haproxy and nginx.
#
# nginx proxies with upstream keep-alive and proxy_buffering off (it streams
# responses as lbd and HAProxy do), and tcp through its stream module.
#
# Needs: haproxy, nginx, wrk, valgrind, openssl (apt-get install -y haproxy
# nginx-light libnginx-mod-stream wrk valgrind openssl). Prints, per scenario and proxy, the
# median over interleaved rounds of requests/s, p50 latency, proxy CPU time
# per request (from
# /proc/<pid>/stat), and instructions per request counted by callgrind
# (hardware counters are not available on every VM; callgrind's count is
# exact and repeatable). Instructions per request are taken as the difference
# of two callgrind runs of different lengths, so start-up work cancels out.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${1:-3}
PROXIES=${PROXIES:-lbd haproxy nginx}
SECONDS_PER_RUN=${2:-5}
PROXY_CPU=0
LOAD_CPU=1
for tool in haproxy nginx wrk valgrind taskset openssl; do
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

# --- a certificate for the TLS scenarios: RSA 2048, as most sites still use ---
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=bench.example \
    -keyout "$WORK/site.key" -out "$WORK/site.crt" 2>/dev/null
cat "$WORK/site.crt" "$WORK/site.key" > "$WORK/site.pem"

# --- one configuration for both proxies ---------------------------------------
HTTP_PORT=$(free_port)
TCP_PORT=$(free_port)
HTTPS_PORT=$(free_port)
SPLICE_PORT=$(free_port)
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

frontend https-in
    mode http
    bind 127.0.0.1:$HTTPS_PORT ssl crt $WORK/site.pem alpn http/1.1
    default_backend web

listen tcp-in
    mode tcp
    bind 127.0.0.1:$TCP_PORT
    server nginx 127.0.0.1:$NGINX_PORT

listen tcp-splice
    mode tcp
    option splice-request
    option splice-response
    bind 127.0.0.1:$SPLICE_PORT
    server nginx 127.0.0.1:$NGINX_PORT
CFG

# --- nginx as the proxy: the same listeners --------------------------------
STREAM_MODULE=/usr/lib/nginx/modules/ngx_stream_module.so
mkdir -p "$WORK/nginx-proxy/logs"
{
    [ -f "$STREAM_MODULE" ] && echo "load_module $STREAM_MODULE;"
    cat <<NGINX
daemon off;
master_process off;
worker_processes 1;
error_log $WORK/nginx-proxy/logs/error.log;
pid $WORK/nginx-proxy/nginx.pid;
events { worker_connections 4096; }
http {
    access_log off;
    upstream web {
        server 127.0.0.1:$NGINX_PORT;
        keepalive 64;
        keepalive_requests 1000000;
    }
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_buffering off;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$HTTP_PORT;
        location / { proxy_pass http://web; }
    }
    server {
        listen 127.0.0.1:$HTTPS_PORT ssl;
        ssl_certificate $WORK/site.crt;
        ssl_certificate_key $WORK/site.key;
        location / { proxy_pass http://web; }
    }
}
NGINX
    if [ -f "$STREAM_MODULE" ]; then
        cat <<NGINX
stream {
    server { listen 127.0.0.1:$TCP_PORT; proxy_pass 127.0.0.1:$NGINX_PORT; }
    server { listen 127.0.0.1:$SPLICE_PORT; proxy_pass 127.0.0.1:$NGINX_PORT; }
}
NGINX
    else
        echo "load.sh: no nginx stream module ($STREAM_MODULE): nginx skips tcp" >&2
    fi
} > "$WORK/nginx-proxy.conf"

start_proxy() { # name [wrapper...] -> pid in PROXY_PID
    local name=$1
    shift
    case $name in
        lbd) taskset -c $PROXY_CPU "$@" "$LBD" -f "$WORK/bench.cfg" >"$WORK/$name.log" 2>&1 & ;;
        haproxy) taskset -c $PROXY_CPU "$@" haproxy -db -f "$WORK/bench.cfg" >"$WORK/$name.log" 2>&1 & ;;
        nginx) taskset -c $PROXY_CPU "$@" nginx -c "$WORK/nginx-proxy.conf" -p "$WORK/nginx-proxy" >"$WORK/$name.log" 2>&1 & ;;
    esac
    PROXY_PID=$!
    PIDS+=("$PROXY_PID")
    wait_port "$HTTP_PORT"
    wait_port "$HTTPS_PORT"
    if [ "$name" != nginx ] || [ -f "$STREAM_MODULE" ]; then
        wait_port "$TCP_PORT"
        wait_port "$SPLICE_PORT"
    fi
}

# Whether a proxy can run a scenario here.
runs() { # proxy scenario
    case $2 in
        tcpbulk | tcpsplice) [ "$1" != nginx ] || [ -f "$STREAM_MODULE" ] ;;
        *) true ;;
    esac
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
        tcpsplice) echo "-c 10 http://127.0.0.1:$SPLICE_PORT/1m" ;;
        # requests over kept-alive TLS connections
        tls-ka) echo "-c 50 https://127.0.0.1:$HTTPS_PORT/small" ;;
    esac
}

# Full handshakes: openssl s_time -new (no session reuse), four clients
# at once; prints "handshakes p50" like run_wrk (s_time gives no latency).
run_s_time() { # seconds
    local i outs=()
    for i in 1 2 3 4; do
        outs+=("$WORK/s_time.$i")
        taskset -c $LOAD_CPU openssl s_time -connect "127.0.0.1:$HTTPS_PORT" -new \
            -time "$1" -www /small >"$WORK/s_time.$i" 2>&1 &
    done
    # run_wrk runs in a subshell whose only children are these clients.
    wait
    local total
    total=$(cat "${outs[@]}" | awk '/real seconds/ {n += $1} END {print n + 0}')
    echo "$total 0ms"
}

run_wrk() { # seconds scenario -> "requests p50_ms"
    if [ "$2" = tls-full ]; then
        run_s_time "$1"
        return
    fi
    local out
    # shellcheck disable=SC2046
    out=$(taskset -c $LOAD_CPU wrk -t 1 -d "${1}s" --latency $(scenario_args "$2"))
    local requests p50
    requests=$(echo "$out" | awk '/requests in/ {print $1}')
    p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
    echo "$requests $p50"
}

SCENARIOS=${SCENARIOS:-keepalive newconn 64k tcpbulk tcpsplice tls-ka tls-full}
TICK=$(getconf CLK_TCK)
RESULTS=$WORK/results.txt
: > "$RESULTS"

for round in $(seq "$ROUNDS"); do
    for proxy in $PROXIES; do
        start_proxy "$proxy"
        for s in $SCENARIOS; do
            runs "$proxy" "$s" || continue
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
        runs "$proxy" "$s" || continue
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

python3 - "$RESULTS" "$SECONDS_PER_RUN" "$TICK" "$SCENARIOS" <<'PY'
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
print(f"{'scenario':10} {'proxy':10} {'req/s':>9} {'p50 ms':>7} {'cpu us/req':>10} {'instr/req':>10}")
for s in sys.argv[4].split():
    line = {}
    for p in ("lbd", "haproxy", "nginx"):
        v = stats.get((s, p))
        if not v:
            continue
        rps = statistics.median(x[0] for x in v)
        p50 = statistics.median(x[1] for x in v)
        cpu = statistics.median(x[2] for x in v)
        line[p] = (rps, p50, cpu, ipr(s, p))
        print(f"{s:10} {p:10} {rps:9.0f} {p50:7.3f} {cpu:10.2f} {line[p][3]:10.0f}")
    r = lambda a, b: a / b if b else float("nan")
    for other in ("haproxy", "nginx"):
        if "lbd" in line and other in line:
            l, o = line["lbd"], line[other]
            label = f"lbd/{other[:3]}"
            print(f"{s:10} {label:10} {r(l[0], o[0]):9.2f} {r(l[1], o[1]):7.2f} {r(l[2], o[2]):10.2f} {r(l[3], o[3]):10.2f}")
PY
