"""Closed-loop load for trying the planner (docs/PLANNER.md): CLIENTS threads send /v1/completions back to back for
SECONDS, each prompt WORDS random words (the first fifth shared by all), MAX_TOKENS tokens out (ignore_eos).

    python3 docs/examples/planner_load.py URL MODEL CLIENTS SECONDS WORDS MAX_TOKENS
"""
import json
import random
import sys
import threading
import time
import urllib.request

url, model, clients, seconds, words, max_tokens = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), \
    int(sys.argv[5]), int(sys.argv[6])
vocab = "river stone light garden number market silver window morning yellow engine travel paper music forest letter".split()
shared = " ".join(random.Random(1).choice(vocab) for _ in range(words // 5))
end = time.time() + seconds
finished = [0]


def client(c):
    rnd = random.Random(c)
    while time.time() < end:
        prompt = shared + " " + " ".join(rnd.choice(vocab) + str(rnd.randint(0, 999)) for _ in range(words - words // 5))
        body = json.dumps({"model": model, "prompt": prompt, "max_tokens": max_tokens, "ignore_eos": True}).encode()
        request = urllib.request.Request(url + "/v1/completions", body, {"content-type": "application/json"})
        with urllib.request.urlopen(request, timeout=120) as reply:
            json.load(reply)
        finished[0] += 1


threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("requests", finished[0])
