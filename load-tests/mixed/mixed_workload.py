#!/usr/bin/env python3
"""Mixed workload against a Tandem gateway: decode-heavy streams run continuously while long prompts arrive.

Decoders: N concurrent streams, each a loop of short token-id prompts generating --decode-tokens tokens; every SSE
token's arrival time is recorded, so inter-token latency (ITL) is measured where a client sees it. Long prompts: one
every --long-every seconds, --long-tokens tokens, a few generated tokens; their TTFT is recorded. Prints one JSON line:
ITL p50/p99 of the decoders, TTFT of decoders and of long prompts, and output throughput. Standard library only.
"""
import argparse, json, random, threading, time, urllib.request


def stream(url, model, prompt, max_tokens):
    """Sends one streamed completion; returns (send time, [arrival time of each token])."""
    body = json.dumps({"model": model, "prompt": prompt, "max_tokens": max_tokens, "temperature": 0,
                       "ignore_eos": True, "stream": True, "logprobs": 0}).encode()
    req = urllib.request.Request(url + "/v1/completions", body, {"Content-Type": "application/json"})
    start, arrivals = time.perf_counter(), []
    with urllib.request.urlopen(req, timeout=600) as resp:
        for raw in resp:
            line = raw.decode().strip()
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            chunk = json.loads(line[6:])
            choice = chunk["choices"][0]
            lp = choice.get("logprobs") or {}
            n = len(lp.get("tokens") or []) or (1 if choice.get("text") else 0)
            now = time.perf_counter()
            arrivals.extend([now] * n)
    return start, arrivals


def pct(values, q):
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q / 100 * (len(s) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="http://127.0.0.1:8000")
    ap.add_argument("--decoders", type=int, default=4)
    ap.add_argument("--decode-prompt", type=int, default=32)
    ap.add_argument("--decode-tokens", type=int, default=64)
    ap.add_argument("--long-tokens", type=int, default=1536)
    ap.add_argument("--long-every", type=float, default=6.0)
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--vocab", type=int, default=32000)
    a = ap.parse_args()
    model = json.load(urllib.request.urlopen(a.url + "/v1/models"))["data"][0]["id"]
    deadline = time.perf_counter() + a.duration
    lock = threading.Lock()
    itl, decode_ttft, long_ttft, tokens = [], [], [], [0]

    def decoder(seed):
        rnd = random.Random(seed)
        while time.perf_counter() < deadline:
            prompt = [rnd.randrange(10, a.vocab) for _ in range(a.decode_prompt)]
            start, arr = stream(a.url, model, prompt, a.decode_tokens)
            with lock:
                if arr:
                    decode_ttft.append(arr[0] - start)
                itl.extend(b - x for x, b in zip(arr, arr[1:]))
                tokens[0] += len(arr)

    def long_prompts():
        rnd = random.Random(7)
        while time.perf_counter() + a.long_every < deadline:
            time.sleep(a.long_every)
            prompt = [rnd.randrange(10, a.vocab) for _ in range(a.long_tokens)]
            start, arr = stream(a.url, model, prompt, 4)
            with lock:
                if arr:
                    long_ttft.append(arr[0] - start)
                tokens[0] += len(arr)

    threads = [threading.Thread(target=decoder, args=(i,)) for i in range(a.decoders)]
    threads.append(threading.Thread(target=long_prompts))
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    ms = lambda v: round(v * 1000, 1)
    print(json.dumps({"decoders": a.decoders, "long_prompts": len(long_ttft), "itl_p50_ms": ms(pct(itl, 50)),
                      "itl_p99_ms": ms(pct(itl, 99)), "decode_ttft_p50_ms": ms(pct(decode_ttft, 50)),
                      "long_ttft_p50_ms": ms(pct(long_ttft, 50)), "long_ttft_p99_ms": ms(pct(long_ttft, 99)),
                      "output_tokens_per_s": round(tokens[0] / elapsed, 1), "seconds": round(elapsed, 1)}))


if __name__ == "__main__":
    main()
