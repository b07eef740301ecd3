#!/usr/bin/env python3
"""Runs `pricefn price` of two binaries on every case and compares them.

usage: compare.py OLD_BIN NEW_BIN CASEDIR OUTDIR

For each CASEDIR/*.json: `BIN price -workers 1 --out F CASE` with both
binaries; stdout, stderr, exit code and F must be equal byte for byte. Each
difference is written to OUTDIR/price-NNNNN/ (the input, both sides) and
printed; the count last. The exit code is 1 when anything differed.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile


def run(binary, case, tmp):
    out = os.path.join(tmp, "out.json")
    if os.path.exists(out):
        os.remove(out)
    try:
        p = subprocess.run([binary, "price", "-workers", "1", "--out", out, case],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
        rc, so, se = p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired:
        rc, so, se = "timeout", b"", b""
    f = open(out, "rb").read() if os.path.exists(out) else None
    return {"exit": rc, "stdout": so, "stderr": se, "file": f}


def show(b, limit=600):
    if b is None:
        return "(no file)"
    s = b.decode("utf-8", "backslashreplace")
    return s if len(s) <= limit else s[:limit] + "...(%d bytes)" % len(b)


def blur(b):
    """b with its numbers and quoted texts blurred."""
    b = re.sub(rb'"(?:[^"\\]|\\.)*"', b'"_"', b)
    return re.sub(rb"[0-9][0-9.e+-]*", b"#", b)[:160]


def main():
    old, new, cases, outdir = sys.argv[1:5]
    os.makedirs(outdir, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="pricediff")
    names = sorted(os.listdir(cases))
    diffs = 0
    kinds = {}
    # What the cases reach, as the old binary tells it: batch errors and
    # trade errors with their numbers and ids blurred (a rough coverage).
    batch_errors, trade_errors, priced = set(), set(), 0
    for name in names:
        case = os.path.join(cases, name)
        a = run(old, case, tmp)
        b = run(new, case, tmp)
        if a["exit"] != 0:
            batch_errors.add(blur(a["stderr"].split(b": ", 2)[-1]))
        elif a["file"]:
            errs = re.findall(rb'"error":"((?:[^"\\]|\\.)*)"', a["file"])
            trade_errors.update(blur(re.sub(rb"^trade .*?: ", b"", e)) for e in errs)
            priced += a["file"].count(b'{"id":') - len(errs)
        bad = [k for k in ("exit", "stdout", "stderr", "file") if a[k] != b[k]]
        if not bad:
            continue
        diffs += 1
        d = os.path.join(outdir, "price-" + name[:-5])
        os.makedirs(d, exist_ok=True)
        shutil.copy(case, os.path.join(d, "input.json"))
        for side, r in (("old", a), ("new", b)):
            for k in ("stdout", "stderr", "file"):
                if r[k] is not None:
                    open(os.path.join(d, side + "." + k), "wb").write(r[k])
            open(os.path.join(d, side + ".exit"), "w").write(str(r["exit"]) + "\n")
        print("DIFF %s (%s): %s" % (name, ",".join(bad), d))
        for k in bad:
            print("  old %s: %s" % (k, show(a[k]) if k != "exit" else a[k]))
            print("  new %s: %s" % (k, show(b[k]) if k != "exit" else b[k]))
        for k in bad:
            kinds[k] = kinds.get(k, 0) + 1
    shutil.rmtree(tmp)
    print("reached: %d distinct batch errors, %d distinct trade errors, %d trades priced"
          % (len(batch_errors), len(trade_errors), priced))
    print("price: %d cases, %d differ %s" % (len(names), diffs, kinds or ""))
    sys.exit(1 if diffs else 0)


if __name__ == "__main__":
    main()
