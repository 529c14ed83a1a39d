#!/usr/bin/env bash
# Serving latency of Tandem beside llama-server: the same model, cores and load, one server at a time.
#
#   load-tests/compare/serving.sh LLAMA_BIN_DIR MODEL.gguf [--json]
#
# One load client (io.tandem.loadtests.serving.ServingBench, Vert.x, SSE) drives llama-server and then Tandem's
# embedded gateway (aggregated: --prefill-workers 0, unless PREFILL_WORKERS) with a closed loop of distinct
# 256-token token-id prompts, 128 output tokens each (ignore_eos, greedy), streamed, at concurrency 1, 8 and 16 after
# a warm-up; per level it measures output tokens/s, TTFT and ITL, and during the c=16 level it scrapes Tandem's
# /metrics for its own share (router decision, gateway overhead). Prints a Markdown table with the ratios against
# issue 12's targets (--json: the same as JSON). LLAMA_BIN_DIR holds llama-server and its .so files
# (../shared/tools/build-llama-cpp.sh).
# Environment: THREADS (2), CONCURRENCY (1,8,16), WINDOW_SECONDS (40 per level), DRAIN_SECONDS (60: requests still
# streaming this long after a level's window are closed; what they received counts), WARMUP_REQUESTS (8),
# WARMUP_SHORT (2000 short requests first: 8-token prompts, 1 output token; per-request code compiled, as in a server
# that has been serving for a while),
# PROMPT_TOKENS (256), MAX_TOKENS (128), VOCAB (32000), SEED (1), SKIP_BUILD (1: use the jars as they are),
# PREFILL_WORKERS (0: Tandem aggregated; 1: disaggregated, a prefill worker beside the decode worker in one JVM, as
# embedded mode's default from 8 cores), TANDEM_FLAGS (extra gateway.jar flags, e.g. "--engine-option
# max-num-batched-tokens=256"), KEEP (a directory for the raw results and server logs; else a temporary one),
# SERVERS ("llama-server Tandem": run only some, reusing the others' results from KEEP), ROUNDS (1: how many times to
# run the servers in turn, llama-server then Tandem; the table then gives medians, and each ratio as the median of
# the rounds' ratios with their range: on a shared machine one run can be off by 20 % or more), SLO_TTFT_MS and
# SLO_TPOT_MS: the per-request objective of the goodput table (default: ServingBench's, 1000 and 100).
set -euo pipefail
[ $# -ge 2 ] || { sed -n '2,24p' "$0" >&2; exit 2; }
bin=$(cd "$1" && pwd); model=$(realpath "$2"); shift 2
json=""; [ "${1:-}" = "--json" ] && json="--json"
here=$(cd "$(dirname "$0")/../.." && pwd)
threads=${THREADS:-2} prompt=${PROMPT_TOKENS:-256} gen=${MAX_TOKENS:-128}
concurrency=${CONCURRENCY:-1,8,16}
rounds=${ROUNDS:-1}
prefill_workers=${PREFILL_WORKERS:-0}
[[ "$prefill_workers" =~ ^[0-9]+$ ]] || {
  echo "PREFILL_WORKERS must be a whole number, got '$prefill_workers'" >&2; exit 2; }
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "ROUNDS must be a whole number >= 1, got '$rounds'" >&2; exit 2; }
slots=$(tr ',' '\n' <<<"$concurrency" | sort -n | tail -1)
[ -x "$bin/llama-server" ] || { echo "no $bin/llama-server (build llama.cpp with ../shared/tools/build-llama-cpp.sh)" >&2; exit 2; }
[ -f "$model" ] || { echo "no model file $model" >&2; exit 2; }

if [ -n "${KEEP:-}" ]; then out=$(mkdir -p "$KEEP" && cd "$KEEP" && pwd); else out=$(mktemp -d); fi
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  [ -n "${KEEP:-}" ] || rm -rf "$out"
}
trap cleanup EXIT

cd "$here"
if [ "${SKIP_BUILD:-0}" != 1 ] || [ ! -f gateway/target/gateway.jar ]; then
  echo "building gateway.jar and the load client" >&2
  ./tandem mvn -q -o -pl gateway -am package -DskipTests >&2
fi
./tandem mvn -q -o -pl load-tests compile dependency:build-classpath -Dmaven.test.skip=true -DincludeScope=runtime \
    -Dmdep.outputFile="$here/load-tests/target/serving.classpath" >&2

free_port() {
  local p
  for _ in $(seq 1 50); do
    p=$(( 20000 + RANDOM % 20000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  echo "no free port found" >&2; exit 1
}

# waits for GET $2 on port $1 to answer 200 while process $server lives (up to 10 minutes: a cold JIT, a busy machine)
await_ready() {
  for _ in $(seq 1 1200); do
    kill -0 "$server" 2>/dev/null || { echo "the server died, see $3" >&2; tail -20 "$3" >&2; exit 1; }
    if (exec 3<>"/dev/tcp/127.0.0.1/$1" && printf 'GET %s HTTP/1.0\r\n\r\n' "$2" >&3 && head -1 <&3 | grep -q ' 200') 2>/dev/null; then
      return
    fi
    sleep 0.5
  done
  echo "the server did not become ready, see $3" >&2; exit 1
}

stop_server() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  server=""
}

load() { # label port extra-flags...
  local label=$1 port=$2; shift 2
  ./tandem java -Xmx512m -cp "load-tests/target/classes:$(cat load-tests/target/serving.classpath)" \
      io.tandem.loadtests.serving.ServingBench run --url "http://127.0.0.1:$port" --label "$label" \
      --out "$out/$label-$round.json" --concurrency "$concurrency" --window-seconds "${WINDOW_SECONDS:-40}" --drain-seconds "${DRAIN_SECONDS:-60}" \
      --warmup-requests "${WARMUP_REQUESTS:-8}" --warmup-short "${WARMUP_SHORT:-2000}" --prompt-tokens "$prompt" --max-tokens "$gen" \
      --vocab "${VOCAB:-32000}" --seed "${SEED:-1}" "$@"
}

servers=${SERVERS:-llama-server Tandem}
runs() { [[ " $servers " == *" $1 "* ]] || { [ -f "$out/$1-$round.json" ] || { echo "SERVERS skips $1 but $out/$1-$round.json is missing (set KEEP)" >&2; exit 2; }; false; }; }

for round in $(seq 1 "$rounds"); do
  # llama-server: one slot per client, each with room for a prompt, its answer and some slack
  if runs llama-server; then
  port=$(free_port)
  echo "== round $round/$rounds: llama-server on :$port (-t $threads -np $slots)" >&2
  LD_LIBRARY_PATH="$bin${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$bin/llama-server" -m "$model" -t "$threads" \
      -np "$slots" -c $(( slots * (prompt + gen + 64) )) --host 127.0.0.1 --port "$port" >"$out/llama-server-$round.log" 2>&1 &
  server=$!
  await_ready "$port" /health "$out/llama-server-$round.log"
  load llama-server "$port"
  stop_server
  fi

  # Tandem: the embedded gateway, aggregated by default (one worker prefills and decodes), the same threads
  if runs Tandem; then
  port=$(free_port)
  echo "== round $round/$rounds: Tandem on :$port" \
       "(--prefill-workers $prefill_workers --threads $threads ${TANDEM_FLAGS:-})" >&2
  ./tandem java -jar gateway/target/gateway.jar --host 127.0.0.1 --port "$port" --model "$model" \
      --prefill-workers "$prefill_workers" --threads "$threads" ${TANDEM_FLAGS:-} >"$out/tandem-$round.log" 2>&1 &
  server=$!
  await_ready "$port" /ready "$out/tandem-$round.log"
  load Tandem "$port" --gateway-metrics
  stop_server
  fi
done

files() { local f=""; for r in $(seq 1 "$rounds"); do f="$f${f:+,}$out/$1-$r.json"; done; echo "$f"; }
slo=()
[ -z "${SLO_TTFT_MS:-}" ] || slo+=(--slo-ttft-ms "$SLO_TTFT_MS")
[ -z "${SLO_TPOT_MS:-}" ] || slo+=(--slo-tpot-ms "$SLO_TPOT_MS")
echo >&2
echo "Closed loop, distinct ${prompt}-token prompts, $gen output tokens, $threads threads; $(basename "$model"); ratios Tandem / llama-server (✗: target missed)" >&2
./tandem java -cp "load-tests/target/classes:$(cat load-tests/target/serving.classpath)" \
    io.tandem.loadtests.serving.ServingBench compare "$(files llama-server)" "$(files Tandem)" ${slo[@]+"${slo[@]}"} $json
