#!/usr/bin/python3
"""Generate hard American option test cases with QuantLib 1.29 (Debian's
quantlib-python: run it with /usr/bin/python3).

Writes a CSV of test cases beside this script (or to OUT). Each row is one
option on a flat Black-Scholes market (Actual/365 Fixed, continuous rates):

  ref_*     QuantLib FdBlackScholesVanillaEngine(process, 2000, 2000, 0), the
            engine and grid that reproduce batch/testdata/reference/american
            exactly (npv, delta, gamma, theta as that engine reports them);
  truth     QdFpAmericanEngine with highPrecisionScheme (Andersen-Lake-
            Offengenden), or empty where QuantLib rejects the case (the
            double-boundary region q < r < 0 for puts, r < q < 0 for calls);
  european  AnalyticEuropeanEngine.

Usage: /usr/bin/python3 gen_american.py [N] [SEED] [OUT|-] [hard|batch]

The "hard" style (american_hard.csv) draws expiries of a day to 30 years,
vols of 2% to 150%, rates of -3% to 10%, yields of -3% to 15% and strikes
within 2.5 standard deviations (at most a factor 5) of spot; the "batch"
style (american_batchstyle.csv) the ranges of batch/testdata/hard/gen.py.
The committed files come from

  /usr/bin/python3 gen_american.py 400 20261125            # american_hard.csv
  /usr/bin/python3 gen_american.py 400 4242 - batch        # american_batchstyle.csv

(about two minutes each: the reference engine takes 0.25 s a case).
"""
import csv
import math
import os
import random
import sys

import QuantLib as ql

VAL = ql.Date(25, 11, 2026)
DC = ql.Actual365Fixed()


def process(spot, q, r, vol):
    s = ql.QuoteHandle(ql.SimpleQuote(spot))
    rts = ql.YieldTermStructureHandle(ql.FlatForward(VAL, r, DC))
    qts = ql.YieldTermStructureHandle(ql.FlatForward(VAL, q, DC))
    vts = ql.BlackVolTermStructureHandle(ql.BlackConstantVol(VAL, ql.NullCalendar(), vol, DC))
    return ql.BlackScholesMertonProcess(s, qts, rts, vts)


def option(right, strike, days, american=True):
    kind = ql.Option.Call if right == "call" else ql.Option.Put
    ex = ql.AmericanExercise(VAL, VAL + days) if american else ql.EuropeanExercise(VAL + days)
    return ql.VanillaOption(ql.PlainVanillaPayoff(kind, strike), ex)


def draw(rnd):
    right = rnd.choice(["call", "put"])
    u = rnd.random()
    if u < 0.15:
        days = rnd.randint(1, 30)
    elif u < 0.55:
        days = rnd.randint(31, 730)
    elif u < 0.85:
        days = rnd.randint(731, 3650)
    else:
        days = rnd.randint(3651, 10950)
    vol = math.exp(rnd.uniform(math.log(0.02), math.log(1.5)))
    r = rnd.uniform(-0.03, 0.0) if rnd.random() < 0.25 else rnd.uniform(0.0, 0.10)
    u = rnd.random()
    if u < 0.3:
        q = 0.0
    elif u < 0.4:
        q = rnd.uniform(-0.03, 0.0)
    else:
        q = rnd.uniform(0.0, 0.15 if right == "call" else 0.10)
    spot = round(rnd.uniform(20.0, 200.0), 4)
    sd = vol * math.sqrt(days / 365.0)
    m = rnd.uniform(-2.5, 2.5) * max(min(sd, 1.0), 0.05)
    m = max(min(m, math.log(5.0)), -math.log(5.0))
    strike = round(spot * math.exp(m), 4)
    return right, spot, strike, round(q, 5), round(r, 5), round(vol, 5), days


def draw_batch_style(rnd):
    """The parameter ranges of batch/testdata/hard/gen.py's equity families:
    spots 5 to 2000, vols 2% to 150% (10% at the ends), rates -2% to 10%,
    yields 0 (30%) or up to 10%, expiries of 1 to 7 days (25%), 8 to 90 days,
    91 days to 10 years, or 20 to 30 years (25%), strikes 0.3 to 3 times spot."""
    right = rnd.choice(["call", "put"])
    spot = round(math.exp(rnd.uniform(math.log(5), math.log(2000))), 6)
    if rnd.random() < 0.1:
        vol = rnd.choice([0.02, 0.021, 1.5, 1.499])
    else:
        vol = round(math.exp(rnd.uniform(math.log(0.02), math.log(1.5))), 6)
    u = rnd.random()
    r = round(rnd.uniform(-0.02, 0.0), 6) if u < 0.3 else 0.0 if u < 0.35 else round(rnd.uniform(0.0, 0.1), 6)
    q = 0.0 if rnd.random() < 0.3 else round(rnd.uniform(0.0, 0.1), 6)
    u = rnd.random()
    if u < 0.25:
        days = rnd.randint(1, 7)
    elif u < 0.4:
        days = rnd.randint(8, 90)
    elif u < 0.75:
        days = rnd.randint(91, 3650)
    else:
        days = rnd.randint(20 * 365, 30 * 365 + 7)
    u = rnd.random()
    if u < 0.1:
        strike = round(spot * rnd.choice([0.3, 3.0]), 6)
    elif u < 0.2:
        strike = spot
    else:
        strike = round(spot * math.exp(rnd.uniform(math.log(0.3), math.log(3.0))), 6)
    return right, spot, strike, q, r, vol, days


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 20261125
    ql.Settings.instance().evaluationDate = VAL
    rnd = random.Random(seed)
    style = sys.argv[4] if len(sys.argv) > 4 else "hard"
    out = sys.argv[3] if len(sys.argv) > 3 and sys.argv[3] != "-" else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "american_hard.csv" if style == "hard" else "american_batchstyle.csv")
    with open(out, "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["id", "right", "spot", "strike", "q", "r", "vol", "days",
                    "ref_npv", "ref_delta", "ref_gamma", "ref_theta", "truth", "european"])
        for i in range(n):
            right, spot, strike, q, r, vol, days = (draw_batch_style if style == "batch" else draw)(rnd)
            p = process(spot, q, r, vol)
            am = option(right, strike, days)
            am.setPricingEngine(ql.FdBlackScholesVanillaEngine(p, 2000, 2000, 0))
            ref = (am.NPV(), am.delta(), am.gamma(), am.theta())
            try:
                am.setPricingEngine(ql.QdFpAmericanEngine(p, ql.QdFpAmericanEngine.highPrecisionScheme()))
                truth = "%.12g" % am.NPV()
            except RuntimeError:
                truth = ""
            eu = option(right, strike, days, american=False)
            eu.setPricingEngine(ql.AnalyticEuropeanEngine(p))
            w.writerow(["H%d" % i, right, spot, strike, q, r, vol, days]
                       + ["%.12g" % v for v in ref] + [truth, "%.12g" % eu.NPV()])
            fh.flush()


if __name__ == "__main__":
    main()
