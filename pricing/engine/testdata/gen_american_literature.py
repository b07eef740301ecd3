#!/usr/bin/python3
"""Reprice the rows of ref_american.csv with QuantLib 1.29 (Debian's
quantlib-python: run it with /usr/bin/python3) and write
american_literature_truth.csv beside this script.

Many literature values in ref_american.csv come from analytic
approximations (Barone-Adesi-Whaley, Bjerksund-Stensland, Ju) and differ from
the true American price by more than their row's tolerance, which was set for
the approximating engine. For each row this writes the true price from
QdFpAmericanEngine with highPrecisionScheme (Andersen-Lake-Offengenden; for
rows quoting an early-exercise premium, the premium over
AnalyticEuropeanEngine), on the row's own day counter and day count, so that a
test can tell how far the literature value itself is from the truth.

Usage: /usr/bin/python3 gen_american_literature.py
"""
import csv
import os

import QuantLib as ql

VAL = ql.Date(25, 11, 2026)


def price(row, engine, american=True):
    dc = ql.Actual360() if row["day_counter"] == "Actual360" else ql.Actual365Fixed()
    s = ql.QuoteHandle(ql.SimpleQuote(float(row["spot"])))
    rts = ql.YieldTermStructureHandle(ql.FlatForward(VAL, float(row["r"]), dc))
    qts = ql.YieldTermStructureHandle(ql.FlatForward(VAL, float(row["q"]), dc))
    vts = ql.BlackVolTermStructureHandle(ql.BlackConstantVol(VAL, ql.NullCalendar(), float(row["vol"]), dc))
    p = ql.BlackScholesMertonProcess(s, qts, rts, vts)
    kind = ql.Option.Call if row["option_type"] == "Call" else ql.Option.Put
    expiry = VAL + int(row["t_days"])
    ex = ql.AmericanExercise(VAL, expiry) if american else ql.EuropeanExercise(expiry)
    opt = ql.VanillaOption(ql.PlainVanillaPayoff(kind, float(row["strike"])), ex)
    opt.setPricingEngine(engine(p))
    return opt.NPV(), dc.yearFraction(VAL, expiry)


def main():
    ql.Settings.instance().evaluationDate = VAL
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "ref_american.csv")) as fh:
        rows = list(csv.DictReader(fh))
    with open(os.path.join(here, "american_literature_truth.csv"), "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["row", "test_case", "option_type", "strike", "spot", "q", "r", "vol", "t_eff", "quantity", "expected", "truth"])
        for i, row in enumerate(rows):
            hp = lambda p: ql.QdFpAmericanEngine(p, ql.QdFpAmericanEngine.highPrecisionScheme())
            truth, t = price(row, hp)
            assert abs(t - float(row["t_eff"])) < 1e-12, (t, row["t_eff"])
            if row["quantity"] != "npv":
                eu, _ = price(row, ql.AnalyticEuropeanEngine, american=False)
                truth -= eu
            w.writerow([i + 2, row["test_case"], row["option_type"], row["strike"], row["spot"], row["q"],
                        row["r"], row["vol"], row["t_eff"], row["quantity"], row["expected"], "%.15g" % truth])


if __name__ == "__main__":
    main()
