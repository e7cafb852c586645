"""A bounded load test of a running storefront (fashrec-shop): N clients for S seconds, each
looping over a mix of words searches (every gender mode), photo uploads (the rendered reference
photos) and product pages, one request at a time. Prints page times (p50, p99 per kind and
overall, as the client sees them), the shop's own time for a words search (its Server-Timing
header, alone, one search at a time before the load, and under the load) with its two parts, the
wait for a pooled connection and the queries themselves, the errors (any status but 200, any failed request) and the requests per second.
The load's ten phrases repeat, so after the warm-up each pooled backend finds their embed_text in
the extension's per-backend cache of recent inputs; "words_alone_distinct" times, one at a time,
phrases searched once each (training/attribute_queries.jsonl), which pay for the encoder.

    python3 bench/shop_load.py --shop http://127.0.0.1:8099/ [--clients 20] [--seconds 30]
"""
import argparse
import json
import pathlib
import random
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

ROOT = pathlib.Path(__file__).resolve().parents[1]
WORDS = ["black canvas shoes", "summer dress", "warm winter coat", "leather tote", "jeans",
         "red sneakers", "wool pullover", "silk shirt", "ankle boots", "sandals for the beach"]
GENDERS = ["everyone", "men", "women", "unisex"]
PHOTOS = [p.read_bytes() for p in sorted((ROOT / "training/reference").glob("photo_*.jpg"))]


def request(url, data=None, headers=None):
    """One request: (status, seconds, the Server-Timing durations in ms by name, body)."""
    began = time.perf_counter()
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=60) as response:
            body = response.read()
            status, timing = response.status, response.headers.get("Server-Timing", "")
    except urllib.error.HTTPError as e:
        body = e.read()
        status, timing = e.code, e.headers.get("Server-Timing", "")
    took = time.perf_counter() - began
    # "app;dur=12.3, pool;dur=0.1, db;dur=11.9": the handler, its waits for a pooled connection, its queries
    spent = {name: float(ms) for name, ms in re.findall(r"([a-z]+);dur=([0-9.]+)", timing)}
    return status, took, spent, body


def photo_body(photo):
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"photo.jpg\"\r\n"
            "Content-Type: image/jpeg\r\n\r\n").encode() + photo + \
        (f"\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"gender\"\r\n\r\n"
         f"{random.choice(GENDERS)}\r\n--{boundary}--\r\n").encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def client(shop, ids, until, results, lock, seed):
    rng = random.Random(seed)
    while time.perf_counter() < until:
        kind = rng.choice(["words", "words", "photo", "product"])
        try:
            if kind == "words":
                query = urllib.parse.urlencode({"q": rng.choice(WORDS), "gender": rng.choice(GENDERS)})
                outcome = request(f"{shop}?{query}")
            elif kind == "photo":
                body, headers = photo_body(rng.choice(PHOTOS))
                outcome = request(f"{shop}photo", body, headers)
            else:
                outcome = request(f"{shop}product/{rng.choice(ids)}")
        except Exception as e:  # a failed request is an error of the run, counted, not raised
            outcome = (repr(e), 0.0, {})
        with lock:
            results.append((kind,) + outcome[:3])


def server(timings):
    """p50 and p99 of the shop's own time (app), and p50 of its parts: pool wait and queries."""
    timings = [t for t in timings if "app" in t]
    out = {"server_p50_ms": round(percentile([t["app"] for t in timings], 50), 1),
           "server_p99_ms": round(percentile([t["app"] for t in timings], 99), 1)}
    for part in ("pool", "db"):
        out[f"{part}_p50_ms"] = round(percentile([t.get(part, float("nan")) for t in timings], 50), 1)
    return out


def percentile(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shop", required=True, help="the shop's address, e.g. http://127.0.0.1:8099/")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30)
    args = parser.parse_args()
    shop = args.shop if args.shop.endswith("/") else args.shop + "/"
    # Warm up (every pooled connection loads the models once) and collect the product ids the
    # searches list, for the product pages.
    ids = set()
    for words in WORDS:
        for gender in GENDERS:
            body = request(f"{shop}?" + urllib.parse.urlencode({"q": words, "gender": gender}))[3]
            ids |= {int(i) for i in re.findall(rb'data-id="([0-9]+)"', body)}
    for photo in PHOTOS:
        request(f"{shop}photo", *photo_body(photo))
    ids = sorted(ids)
    alone = [request(f"{shop}?" + urllib.parse.urlencode({"q": WORDS[i % len(WORDS)],
                                                         "gender": GENDERS[i % len(GENDERS)]}))
             for i in range(100)]
    alone = [r[:3] for r in alone]
    distinct = [json.loads(line)["query"] for line in (ROOT / "training/attribute_queries.jsonl").open()]
    distinct = [q for q in dict.fromkeys(distinct) if q not in WORDS][:100]
    distinct = [request(f"{shop}?" + urllib.parse.urlencode({"q": q}))[:3] for q in distinct]
    results, lock = [], threading.Lock()
    until = time.perf_counter() + args.seconds
    threads = [threading.Thread(target=client, args=(shop, ids, until, results, lock, i))
               for i in range(args.clients)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    errors = [r for r in results if r[1] != 200]
    report = {"clients": args.clients, "product_ids": len(ids), "seconds": round(elapsed, 1), "requests": len(results),
              "requests_per_second": round(len(results) / elapsed, 1), "errors": len(errors),
              "error_examples": sorted({str(r[1]) for r in errors})[:5]}
    for kind in ["words", "photo", "product", "all"]:
        times = [r[2] * 1000 for r in results if r[1] == 200 and kind in (r[0], "all")]
        report[kind] = {"requests": len(times), "p50_ms": round(percentile(times, 50), 1),
                        "p99_ms": round(percentile(times, 99), 1)}
    report["words"].update(server(r[3] for r in results if r[0] == "words" and r[1] == 200))
    report["words_alone"] = {"requests": len(alone), "errors": sum(r[0] != 200 for r in alone),
                             "p50_ms": round(percentile([r[1] * 1000 for r in alone], 50), 1),
                             **server(r[2] for r in alone)}
    report["words_alone_distinct"] = {"requests": len(distinct), "errors": sum(r[0] != 200 for r in distinct),
                                      "p50_ms": round(percentile([r[1] * 1000 for r in distinct], 50), 1),
                                      **server(r[2] for r in distinct)}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
