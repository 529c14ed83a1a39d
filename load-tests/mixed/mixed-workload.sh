#!/usr/bin/env bash
# Aggregated vs disaggregated on a mixed workload (decoding streams while long prompts arrive), each worker process
# pinned to its own core: ./load-tests/mixed/mixed-workload.sh MODEL.gguf [seconds]
#   disaggregated: prefill worker on core 0, decode worker on core 1 (1 thread each)
#   aggregated:    one worker on cores 0-1 (2 threads)
# The gateway is not pinned. Prints one JSON line per mode (mixed_workload.py).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
model="${1:?usage: mixed-workload.sh MODEL.gguf [seconds]}"
seconds="${2:-60}"
logs="$here/load-tests/target/mixed-$(date +%s)"; mkdir -p "$logs"
java="$("$here/tandem" java -XshowSettings:properties -version 2>&1 | sed -n 's/ *java.home = //p')/bin/java"
pids=()
cleanup() { for p in "${pids[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null || true; done; pids=(); }
trap cleanup EXIT

start() { # name cores jar args...
  local name="$1" cores="$2" jar="$3"; shift 3
  taskset -c "$cores" "$java" -Xmx512m --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector \
    -Dtandem.cluster.name="$cluster" -Dtandem.cluster.port="$port" -Dhazelcast.phone.home.enabled=false \
    -jar "$here/$jar" "$@" > "$logs/$name.log" 2>&1 &
  pids+=($!)
}

run() { # mode
  cluster="mixed-$1-$RANDOM"; port=$((6000 + RANDOM % 300 * 10))
  local engine=(--model "$model" --engine-option kv-cache-memory=1GiB --engine-option max-num-batched-tokens=512 --host 127.0.0.1 --port 0 -cluster)
  if [ "$1" = disaggregated ]; then
    start prefill 0 worker/target/worker.jar --role prefill --threads 1 "${engine[@]}"
    start decode 1 worker/target/worker.jar --role decode --threads 1 --max-local-prefill-tokens 256 "${engine[@]}"
  else
    start both 0,1 worker/target/worker.jar --role both --threads 2 --max-local-prefill-tokens 1000000 "${engine[@]}"
  fi
  start gateway 0,1 gateway/target/gateway.jar -cluster --host 127.0.0.1 --port 0 --model "$model"
  local gw=""
  for _ in $(seq 1 120); do
    gw=$(sed -n 's/.*listening on http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$logs/gateway.log" | head -1)
    [ -n "$gw" ] && curl -sf "http://127.0.0.1:$gw/v1/models" 2>/dev/null | grep -q '"id"' && break
    sleep 1
  done
  sleep 5 # every worker registered and reporting load
  python3 "$here/load-tests/mixed/mixed_workload.py" --url "http://127.0.0.1:$gw" --duration 10 >/dev/null # warm-up
  printf '{"mode": "%s", "result": %s}\n' "$1" "$(python3 "$here/load-tests/mixed/mixed_workload.py" --url "http://127.0.0.1:$gw" --duration "$seconds")"
  cleanup
  sleep 2
}

run aggregated
run disaggregated
