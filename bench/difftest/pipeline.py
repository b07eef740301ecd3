#!/usr/bin/env python3
"""The pipeline pass: `pricefn dev` of two binaries, the same batches.

usage: pipeline.py OLD_BIN NEW_BIN CASEDIR OUTDIR PORT [EVERY]

Starts `OLD_BIN dev` on 127.0.0.1:PORT, submits every EVERY-th case (and
every seed and big batch) with POST /batches, waits for each (GET results
?wait=60s) before the next, and records the answers: status, Location and
body of POST /batches, GET /batches/{id}/results and GET /batches/{id};
and other cases (every 2*EVERY-th, offset) with `OLD_BIN submit --quiet
--out F`: its exit code, stdout, stderr and F. Then the same with NEW_BIN
on PORT+1. The records must be equal once masked: times ("...At",
"deadline": removed, since acceptedAt may come after completion),
durations ("...Seconds"), traceparents and ids the engine or submit
generated (not in the input). Differences are written to
OUTDIR/pipe-NAME/ and printed, the count last. $DEV_FLAGS are added to
`pricefn dev`'s flags, e.g. "--chunk-trades 2 --internal-http": many
chunks a batch, events over HTTP.
"""
import http.client
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

TIME = re.compile(rb'"(\w*At|deadline)":"[^"]*",?')
SECS = re.compile(rb'"(\w*Seconds)":[-0-9.eE+]+')
GENID = re.compile(rb"\bb-[0-9a-f]{16}\b")
TRACE = re.compile(rb'"traceparent":"[^"]*"')


def request(port, method, path, body=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        c.request(method, path, body=body, headers={"Content-Type": "application/json"})
        r = c.getresponse()
        return r.status, r.getheader("Location") or "", r.read()
    finally:
        c.close()


def start(binary, port, log):
    p = subprocess.Popen(["nice", "-n", "10", binary, "dev", "--addr", "127.0.0.1:%d" % port,
                          "--log-level", "error"] + os.environ.get("DEV_FLAGS", "").split(), stdout=log, stderr=log)
    for _ in range(200):
        try:
            if request(port, "GET", "/healthz")[0] == 200:
                return p
        except OSError:
            pass
        time.sleep(0.05)
    p.kill()
    raise SystemExit("pricefn dev on %d did not come up" % port)


def mask(b, gen):
    # Times go (not masked): some come in asynchronously (acceptedAt is
    # absent until batch.accepted is in, which may follow completion).
    b = TIME.sub(b"", b)
    b = SECS.sub(rb'"\1":<secs>', b)
    b = TRACE.sub(rb'"traceparent":"<trace>"', b)
    if gen:
        b = b.replace(gen, b"<generated-id>")
    return b


def submit(binary, port, name, tmp):
    """`BIN submit --quiet --out F` of case name: exit, stdout, stderr, F."""
    f = os.path.join(tmp, "submit.json")
    if os.path.exists(f):
        os.remove(f)
    try:
        r = subprocess.run([binary, "submit", "--quiet", "--timeout", "60s", "--url", "http://127.0.0.1:%d" % port,
                            "--out", f, name], stdin=subprocess.DEVNULL, capture_output=True, timeout=90)
        rc, so, se = r.returncode, r.stdout, r.stderr
    except subprocess.TimeoutExpired:
        rc, so, se = "timeout", b"", b""
    body = open(f, "rb").read() if os.path.exists(f) else b"(no file)"
    # The id submit makes for a batch without one (b- and 16 hex digits).
    data = open(name, "rb").read()
    se = GENID.sub(lambda m: m.group(0) if m.group(0) in data else b"<generated-id>", se)
    gen = None
    m = re.search(rb'^\{"batchId":"((?:[^"\\]|\\.)*)"', body)
    if m and m.group(1) not in open(name, "rb").read():
        gen = m.group(1)
    return [("submit exit", rc if isinstance(rc, int) else -1, b"", b""),
            ("submit stdout", 0, b"", mask(so, gen)), ("submit stderr", 0, b"", mask(se, gen)),
            ("submit --out", 0, b"", mask(body, gen))]


def record(binary, port, cases, log, submitted=()):
    p = start(binary, port, log)
    out = {}
    tmp = tempfile.mkdtemp(prefix="pipediff")
    try:
        for name in submitted:
            out[name] = submit(binary, port, name, tmp)
        for name in cases:
            data = open(name, "rb").read()
            rec = []
            st, loc, body = request(port, "POST", "/batches", data)
            gen = None
            m = re.search(rb'"batchId":"((?:[^"\\]|\\.)*)"', body)
            bid = None
            if st == 202 and m:
                bid = m.group(1)
                if bid not in data:
                    gen = bid
                if loc:
                    gen_loc = loc
            rec.append(("POST /batches", st, loc.encode(), body))
            if st == 202 and loc:
                path = urllib.parse.urlsplit(loc).path
                st2, _, body2 = request(port, "GET", path + "/results?wait=60s")
                rec.append(("GET results", st2, b"", body2))
                st3, _, body3 = request(port, "GET", path)
                rec.append(("GET status", st3, b"", body3))
            if gen:
                gq = urllib.parse.quote(gen.decode("utf-8", "replace")).encode()
                rec = [(w, s, mask(l.replace(gq, gen), gen), mask(b, gen)) for w, s, l, b in rec]
            else:
                rec = [(w, s, l, mask(b, None)) for w, s, l, b in rec]
            out[name] = rec
    finally:
        p.terminate()
        p.wait(timeout=10)
        shutil.rmtree(tmp)
    return out


def main():
    old, new, casedir, outdir, port = sys.argv[1:6]
    every = int(sys.argv[6]) if len(sys.argv) > 6 else 10
    port = int(port)
    os.makedirs(outdir, exist_ok=True)
    names = sorted(os.listdir(casedir))
    cases = [os.path.join(casedir, n) for i, n in enumerate(names) if "-seed-" in n or "-big-" in n or i % every == 0]
    # pricefn submit (each binary its own, on its own server) of others.
    submitted = [os.path.join(casedir, n) for i, n in enumerate(names)
                 if i % (2 * every) == every // 2 and "-seed-" not in n and "-big-" not in n]
    log = open(os.path.join(outdir, "dev.log"), "ab")
    a = record(old, port, cases, log, submitted)
    b = record(new, port + 1, cases, log, submitted)
    cases = submitted + cases
    diffs = 0
    for c in cases:
        if a[c] == b[c]:
            continue
        diffs += 1
        d = os.path.join(outdir, "pipe-" + os.path.basename(c)[:-5])
        os.makedirs(d, exist_ok=True)
        shutil.copy(c, os.path.join(d, "input.json"))
        print("DIFF %s: %s" % (os.path.basename(c), d))
        for side, r in (("old", a[c]), ("new", b[c])):
            with open(os.path.join(d, side + ".txt"), "wb") as f:
                for w, s, l, body in r:
                    f.write(b"%s %d %s\n%s\n" % (w.encode(), s, l, body))
        for x, y in zip(a[c], b[c]):
            if x != y:
                print("  old %s %d %s %s" % (x[0], x[1], x[2].decode(), x[3][:400].decode("utf-8", "replace")))
                print("  new %s %d %s %s" % (y[0], y[1], y[2].decode(), y[3][:400].decode("utf-8", "replace")))
        if len(a[c]) != len(b[c]):
            print("  old made %d requests, new %d" % (len(a[c]), len(b[c])))
    print("pipeline: %d batches, %d differ" % (len(cases), diffs))
    sys.exit(1 if diffs else 0)


if __name__ == "__main__":
    main()
