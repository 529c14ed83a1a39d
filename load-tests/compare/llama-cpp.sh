#!/usr/bin/env bash
# Kernel speed of Tandem's CPU engine beside llama.cpp on the same GGUF files and cores, back to back per file.
#
#   load-tests/compare/llama-cpp.sh LLAMA_BIN_DIR MODEL.gguf [MODEL.gguf ...]
#
# For each file it runs llama-bench (pp512, tg64), llama-batched-bench (16 sequences, 16-token prompts, 64 steps:
# "TG at 16 sequences") and `worker.jar bench` with the same tests (which warms each test up for WARMUP seconds
# first, so that the JIT has compiled it: llama.cpp needs no such warm-up; pp512 on 2 threads needed more than bench's
# default 2 s, see docs/BENCHMARKS.md), then prints one table with the ratios and the targets of issue 12
# (`./tandem bench` builds the jars first when the sources changed). LLAMA_BIN_DIR holds llama-bench and
# llama-batched-bench (and their .so files), e.g. the build/bin of ../shared/tools/build-llama-cpp.sh. On a shared
# machine one pair of runs can be off by 20 %: the whole sequence is repeated ROUNDS times, and the table gives each
# side's median and the median of the rounds' ratios (with their range). Environment: ROUNDS (3), THREADS (2),
# REPS (3), PROMPT (512), GEN (64), BATCH (16), WARMUP (10 seconds per Tandem test), TANDEM_BENCH_FLAGS (extra flags
# for worker.jar bench, e.g. "--kernels scalar").
# Make the benchmark files with: ./tandem bench-model --type Q8_0 --out /tmp/bench/bench-Q8_0.gguf (Q4_0, F16, F32).
set -euo pipefail
[ $# -ge 2 ] || { sed -n '2,16p' "$0" >&2; exit 2; }
bin=$(cd "$1" && pwd); shift
here=$(cd "$(dirname "$0")/../.." && pwd)
rounds=${ROUNDS:-3} threads=${THREADS:-2} reps=${REPS:-3} prompt=${PROMPT:-512} gen=${GEN:-64} batch=${BATCH:-16}
warmup=${WARMUP:-10}
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "ROUNDS must be a whole number >= 1, got '$rounds'" >&2; exit 2; }
for tool in llama-bench llama-batched-bench; do
  [ -x "$bin/$tool" ] || { echo "no $bin/$tool (build llama.cpp with ../shared/tools/build-llama-cpp.sh)" >&2; exit 2; }
done
command -v python3 >/dev/null || { echo "python3 is needed to read the JSON results" >&2; exit 2; }
export LD_LIBRARY_PATH="$bin${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for model in "$@"; do [ -f "$model" ] || { echo "no model file $model" >&2; exit 2; }; done
i=0
for round in $(seq 1 "$rounds"); do
  for model in "$@"; do
    i=$((i + 1))
    echo "== round $round/$rounds: $model" >&2
    echo "   llama-bench" >&2
    "$bin/llama-bench" -m "$model" -t "$threads" -p "$prompt" -n "$gen" -r "$reps" -o json > "$out/$i.llama.json" 2>/dev/null
    echo "   llama-batched-bench" >&2
    "$bin/llama-batched-bench" -m "$model" -t "$threads" -c $(( batch * (16 + gen) + 256 )) -b 2048 -ub 512 \
        -npp 16 -ntg "$gen" -npl "$batch" --output-format jsonl 2>/dev/null | grep '^{' > "$out/$i.batched.jsonl"
    echo "   tandem bench" >&2
    "$here/tandem" bench -m "$model" -t "$threads" -p "$prompt" -n "$gen" -b "1,$batch" \
        -r "$reps" -w "$warmup" --no-bandwidth --json ${TANDEM_BENCH_FLAGS:-} 2>/dev/null > "$out/$i.tandem.json"
    echo "$model" > "$out/$i.model"
  done
done

python3 - "$out" "$i" "$prompt" "$gen" "$batch" "$threads" "$rounds" "$warmup" <<'PY'
import json, statistics, sys
out, n, prompt, gen, batch, threads, rounds, warmup = (sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4],
                                                       int(sys.argv[5]), sys.argv[6], sys.argv[7], sys.argv[8])
# issue 12's targets: Tandem / llama.cpp at least this
targets = {"Q8_0": (1.0, 0.9, 1.0), "Q4_0": (0.9, 0.8, 0.9), "F32": (0.95, 0.8, None), "F16": (0.95, 0.8, None)}
runs = {}  # (model, test) -> [(llama.cpp t/s, Tandem t/s)], one per round, in file order
kinds = {}
for i in range(1, n + 1):
    model = open(f"{out}/{i}.model").read().strip().split("/")[-1]
    t = json.load(open(f"{out}/{i}.tandem.json"))
    kinds[model] = t["model"].split()[-1]
    tan = {r["test"]: r["tps"] for r in t["results"]}
    lla = {}
    for r in json.load(open(f"{out}/{i}.llama.json")):
        name = f"pp{r['n_prompt']}" if r["n_gen"] == 0 else f"tg{r['n_gen']}"
        lla[name] = r["avg_ts"]
    for line in open(f"{out}/{i}.batched.jsonl"):
        r = json.loads(line)
        lla[f"tg{r['tg']}@b{r['pl']}"] = r["speed_tg"]
    for test in (f"tg{gen}", f"pp{prompt}", f"tg{gen}@b{batch}"):
        if lla.get(test) and tan.get(test):
            runs.setdefault((model, test), []).append((lla[test], tan[test]))
print(f"\n{threads} threads, {rounds} rounds, Tandem warmed up {warmup} s per test; t/s: median over the rounds of each"
      " round's mean over the repetitions;")
print("ratio = Tandem / llama.cpp: median of the rounds' ratios, their range in brackets\n")
print("| file | type | test | llama.cpp | Tandem | ratio | rounds' ratios | target |")
print("|---|---|---|---:|---:|---:|---|---:|")
for (model, test), pairs in runs.items():
    kind = kinds[model]
    tg_t, pp_t, b_t = targets.get(kind, (None, None, None))
    target = {f"tg{gen}": tg_t, f"pp{prompt}": pp_t, f"tg{gen}@b{batch}": b_t}[test]
    ratios = [b / a for a, b in pairs]
    ratio = statistics.median(ratios)
    mark = "" if target is None else (" ok" if ratio >= target else " **below**")
    print(f"| {model} | {kind} | {test} | {statistics.median(a for a, _ in pairs):.1f} | "
          f"{statistics.median(b for _, b in pairs):.1f} | {ratio:.2f} | {min(ratios):.2f}–{max(ratios):.2f} | "
          f"{'—' if target is None else f'≥ {target}'}{mark} |")
print(f"\nbackend: {t['backend']}")
PY
