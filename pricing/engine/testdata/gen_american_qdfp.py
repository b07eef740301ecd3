#!/usr/bin/python3
"""Generate the QdFp validation tables american_qdfp_batchstyle.csv and
american_qdfp_wide.csv with QuantLib 1.29 (Debian's libquantlib0-dev).

Build the pricer beside this script first:

    g++ -O2 -o gen_american_qdfp gen_american_qdfp.cpp -lQuantLib

It reads lines "right spot strike r q vol days" and prints QuantLib's
QdFpAmericanEngine price (scheme "high": highPrecisionScheme; "legendre":
QdFpLegendreScheme(64, 10, 32, 128); ERR where QuantLib throws) on flat
Actual/365 Fixed curves valued 2026-11-25.

Usage: gen_american_qdfp.py N SEED batch|wide OUT

Draws N options: "batch" the ranges of batch/testdata/hard/gen.py (expiries of
a day to 30 years, vols of 2% to 150%, rates of -2% to 10%, yields of 0 to
10%, strikes 0.3 to 3 times spot); "wide" also yields of -3% to 0 (30% of the
options), which reach QuantLib's double-boundary region (no price there).
Columns: truth (high-precision scheme) and alt (the Legendre scheme), whose
difference tells how far QuantLib's own value can be trusted. The committed
files come from

    gen_american_qdfp.py 1500 777 batch american_qdfp_batchstyle.csv
    gen_american_qdfp.py 1000 778 wide american_qdfp_wide.csv
"""
import math
import os
import random
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PRICER = os.path.join(HERE, "gen_american_qdfp")


def draw(rng, wide):
    spot = round(math.exp(rng.uniform(math.log(5), math.log(2000))), 6)
    u = rng.random()
    vol = rng.choice([0.02, 0.021, 1.5, 1.499]) if u < 0.1 else round(math.exp(rng.uniform(math.log(0.02), math.log(1.5))), 6)
    u = rng.random()
    r = round(rng.uniform(-0.02, 0.0), 6) if u < 0.3 else (0.0 if u < 0.35 else round(rng.uniform(0.0, 0.1), 6))
    u = rng.random()
    q = 0.0 if u < 0.3 else round(rng.uniform(0.0, 0.1), 6)
    if wide and rng.random() < 0.3:
        q = round(rng.uniform(-0.03, 0.0), 6)
    u = rng.random()
    if u < 0.25:
        days = rng.randint(1, 7)
    elif u < 0.4:
        days = rng.randint(8, 90)
    elif u < 0.75:
        days = rng.randint(91, 3650)
    else:
        days = rng.randint(20 * 365, 30 * 365 + 7)
    u = rng.random()
    if u < 0.1:
        k = round(spot * rng.choice([0.3, 3.0]), 6)
    elif u < 0.2:
        k = spot
    else:
        k = round(spot * math.exp(rng.uniform(math.log(0.3), math.log(3.0))), 6)
    return rng.choice(["call", "put"]), spot, k, q, r, vol, days


def run(scheme, rows):
    inp = "".join(f"{r[0]} {r[1]!r} {r[2]!r} {r[4]!r} {r[3]!r} {r[5]!r} {r[6]}\n" for r in rows)
    out = subprocess.run([PRICER, scheme], input=inp, capture_output=True, text=True, check=True).stdout.splitlines()
    return ["" if v.startswith("ERR") else v for v in out]


def main():
    n, seed, style, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
    rng = random.Random(seed)
    rows = [draw(rng, style == "wide") for _ in range(n)]
    truth, alt = run("high", rows), run("legendre", rows)
    with open(os.path.join(HERE, out), "w") as f:
        f.write("id,right,spot,strike,q,r,vol,days,truth,alt\n")
        for i, (row, v, a) in enumerate(zip(rows, truth, alt)):
            f.write(f"V{i},{row[0]},{row[1]!r},{row[2]!r},{row[3]!r},{row[4]!r},{row[5]!r},{row[6]},{v},{a}\n")


if __name__ == "__main__":
    main()
