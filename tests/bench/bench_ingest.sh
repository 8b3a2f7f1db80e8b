#!/bin/sh
# Benchmark of durable ingest: acknowledged webhooks per second, latency
# percentiles, CPU seconds and memory of the engine, driven by wrk from a
# second process over loopback with 1 KiB JSON webhooks; then the same load
# against nginx answering `return 204` as the ceiling.
#
# usage: tests/bench/bench_ingest.sh [SECONDS] [CONNECTIONS]
# needs: wrk and nginx-light (apt-get install wrk nginx-light), a built tree.
set -eu
cd "$(dirname "$0")/../.."
secs=${1:-10}
conns=${2:-64}
bin=./build/switchboard
[ -x "$bin" ] || { echo "build first: make" >&2; exit 1; }
command -v wrk >/dev/null || { echo "needs wrk: apt-get install wrk" >&2; exit 1; }
command -v nginx >/dev/null || { echo "needs nginx: apt-get install nginx-light" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'kill $sbpid $ngpid 2>/dev/null || true; rm -rf "$tmp"' EXIT INT TERM
mkdir -p "$tmp/workflows"

# 1 KiB JSON body
python_body=$(printf '{"type":"order.created","data":{"note":"%s"}}' "$(head -c 2000 /dev/zero | tr '\0' 'x' | head -c 980)")
printf '%s' "$python_body" > "$tmp/body.json"

cat > "$tmp/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("$tmp/body.json", "r")
wrk.body = f:read("*a")
f:close()
done = function(summary, latency, requests)
  io.write(string.format("requests %d  errors(status) %d  errors(socket) %d\n",
    summary.requests, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
  io.write(string.format("rate %.0f/s\n", summary.requests / (summary.duration / 1e6)))
  for _, p in pairs({50, 90, 99, 99.9}) do
    io.write(string.format("p%s %.2f ms\n", p, latency:percentile(p) / 1000))
  end
end
LUA

cat > "$tmp/switchboard.ini" <<INI
[server]
listen = 127.0.0.1:0
threads = 2
max_connections_per_ip = 1024
[engine]
plugin_dir = $PWD/build/plugins
workflow_dir = workflows
store = sqlite:store.db
workers = 2
[log]
level = warn
INI
# events are stored with no run (no workflow matches their type), so this
# measures ingest alone: verify, store durably, acknowledge
cat > "$tmp/workflows/bench.ini" <<INI
[trigger]
use = http.webhook
path = bench
verify = none
type_path = type
events = never.matches
[step noop]
use = log.write
message = unreachable
INI

"$bin" run -c "$tmp/switchboard.ini" > "$tmp/out" 2> "$tmp/err" &
sbpid=$!
for _ in $(seq 50); do grep -q "listening on" "$tmp/out" 2>/dev/null && break; sleep 0.1; done
port=$(sed -n 's/.*127.0.0.1:\([0-9]*\).*/\1/p' "$tmp/out" | head -1)
[ -n "$port" ] || { cat "$tmp/err"; exit 1; }

cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
hwm() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }
tck=$(getconf CLK_TCK)

sleep 1
idle_rss=$(rss $sbpid)
c0=$(cpu $sbpid)
echo "== switchboard: POST /hooks/bench, 1 KiB JSON, ${conns} connections, ${secs}s (every 2xx fsync'd)"
wrk -t1 -c"$conns" -d"${secs}s" -s "$tmp/post.lua" "http://127.0.0.1:$port/hooks/bench" > "$tmp/wrk_sb"
grep -E "^(requests|rate|p[0-9])" "$tmp/wrk_sb"
c1=$(cpu $sbpid)
stored=$(sqlite3 "$tmp/store.db" "select count(*) from events" 2>/dev/null || echo "?")
echo "events stored $stored"
echo "cpu seconds $(echo "$c0 $c1 $tck" | awk '{printf "%.2f", ($2-$1)/$3}')"
echo "rss idle $((idle_rss / 1024)) MB ($idle_rss KiB), peak $(( $(hwm $sbpid) / 1024)) MB"
kill -TERM $sbpid; wait $sbpid 2>/dev/null || true

# nginx answering 204 to the same load: the ceiling of this machine
ngport=$((port + 1))
mkdir -p "$tmp/ng"
cat > "$tmp/nginx.conf" <<NG
worker_processes 2;
pid $tmp/nginx.pid;
error_log $tmp/ng/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $tmp/ng;
  proxy_temp_path $tmp/ng; fastcgi_temp_path $tmp/ng; uwsgi_temp_path $tmp/ng; scgi_temp_path $tmp/ng;
  server { listen 127.0.0.1:$ngport; location / { client_max_body_size 2m; return 204; } }
}
NG
nginx -c "$tmp/nginx.conf" -g 'daemon off;' &
ngpid=$!
sleep 1
echo "== nginx return 204: same load"
wrk -t1 -c"$conns" -d"${secs}s" -s "$tmp/post.lua" "http://127.0.0.1:$ngport/" > "$tmp/wrk_ng"
grep -E "^(requests|rate|p[0-9])" "$tmp/wrk_ng"
kill $ngpid; wait $ngpid 2>/dev/null || true
sb_rate=$(sed -n 's/^rate \([0-9]*\).*/\1/p' "$tmp/wrk_sb")
ng_rate=$(sed -n 's/^rate \([0-9]*\).*/\1/p' "$tmp/wrk_ng")
echo "== switchboard at $(echo "$sb_rate $ng_rate" | awk '{printf "%.0f", 100*$1/$2}')% of nginx's rate"
