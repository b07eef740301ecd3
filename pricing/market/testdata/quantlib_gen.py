#!/usr/bin/env python3
"""Regenerates bootstrap_quantlib.json: curves bootstrapped by QuantLib 1.29's
PiecewiseLogLinearDiscount from DepositRateHelper and SwapRateHelper (no
fixing or settlement lag, par coupons), with their inputs as dates.

Run from pricing/market: /usr/bin/python3 testdata/quantlib_gen.py (Debian's
quantlib-python). The Go tests read the JSON only.
"""
import json

import QuantLib as ql

DC = {"ACT/360": ql.Actual360(), "ACT/365F": ql.Actual365Fixed(),
      "30/360": ql.Thirty360(ql.Thirty360.BondBasis), "ACT/ACT": ql.ActualActual(ql.ActualActual.ISDA)}
CAL = {"none": ql.NullCalendar(), "weekends": ql.WeekendsOnly(), "TARGET": ql.TARGET()}
CONV = {"unadjusted": ql.Unadjusted, "following": ql.Following,
        "modifiedFollowing": ql.ModifiedFollowing, "preceding": ql.Preceding}
FREQ = {"annual": ql.Annual, "semiannual": ql.Semiannual, "quarterly": ql.Quarterly, "monthly": ql.Monthly}


def date(s):
    y, m, d = map(int, s.split("-"))
    return ql.Date(d, m, y)


CASES = [
    dict(asOf="2026-11-25", calendar="TARGET", convention="modifiedFollowing", depositDayCount="ACT/360",
         deposits=[("1M", 0.0301), ("3M", 0.0312), ("6M", 0.0320), ("12M", 0.0331)],
         fixedFrequency="annual", fixedDayCount="30/360", floatFrequency="semiannual", floatDayCount="ACT/360",
         swaps=[("2Y", 0.0342), ("3Y", 0.0351), ("5Y", 0.0363), ("7Y", 0.0370), ("10Y", 0.0378),
                ("15Y", 0.0384), ("20Y", 0.0386), ("30Y", 0.0381)]),
    dict(asOf="2027-03-26", calendar="weekends", convention="following", depositDayCount="ACT/365F",
         deposits=[("1W", 0.0105), ("3M", 0.0098), ("6M", 0.0091)],
         fixedFrequency="semiannual", fixedDayCount="ACT/365F", floatFrequency="quarterly", floatDayCount="ACT/365F",
         swaps=[("1Y", 0.0087), ("2Y", 0.0102), ("4Y", 0.0140), ("6Y", 0.0171), ("12Y", 0.0222), ("25Y", 0.0240)]),
    dict(asOf="2026-12-31", calendar="TARGET", convention="unadjusted", depositDayCount="ACT/360",
         deposits=[("3M", -0.0021), ("6M", -0.0015)],
         fixedFrequency="quarterly", fixedDayCount="ACT/ACT", floatFrequency="quarterly", floatDayCount="ACT/360",
         swaps=[("1Y", -0.0008), ("18M", 0.0004), ("3Y", 0.0031), ("10Y", 0.0123)]),
]

out = []
for c in CASES:
    asof = date(c["asOf"])
    ql.Settings.instance().evaluationDate = asof
    cal, conv = CAL[c["calendar"]], CONV[c["convention"]]
    helpers, quotes = [], []
    for tenor, r in c["deposits"]:
        h = ql.DepositRateHelper(ql.QuoteHandle(ql.SimpleQuote(r)), ql.Period(tenor), 0, cal, conv, False,
                                 DC[c["depositDayCount"]])
        helpers.append(h)
        quotes.append(dict(type="deposit", rate=r, tenor=tenor))
    months = 12 // FREQ[c["floatFrequency"]]
    idx = ql.IborIndex("X", ql.Period(months, ql.Months), 0, ql.EURCurrency(), cal, conv, False, DC[c["floatDayCount"]])
    for tenor, r in c["swaps"]:
        h = ql.SwapRateHelper(ql.QuoteHandle(ql.SimpleQuote(r)), ql.Period(tenor), cal, FREQ[c["fixedFrequency"]],
                              conv, DC[c["fixedDayCount"]], idx)
        helpers.append(h)
        quotes.append(dict(type="swap", rate=r, tenor=tenor))
    curve = ql.PiecewiseLogLinearDiscount(asof, helpers, ql.Actual365Fixed())
    curve.enableExtrapolation()
    curve.discount(asof + 1)
    for h, q in zip(helpers, quotes):
        q["start"] = h.earliestDate().ISO()
        q["maturity"] = h.maturityDate().ISO()
        q["pillar"] = h.pillarDate().ISO()
    last = max(h.pillarDate() for h in helpers)
    dfs = []
    d = asof + 1
    while d <= last:
        dfs.append([d.ISO(), curve.discount(d)])
        d = d + 37
    out.append(dict(asOf=c["asOf"], calendar=c["calendar"], convention=c["convention"],
                    depositDayCount=c["depositDayCount"], fixedFrequency=c["fixedFrequency"],
                    fixedDayCount=c["fixedDayCount"], floatFrequency=c["floatFrequency"],
                    floatDayCount=c["floatDayCount"], quotes=quotes, discounts=dfs))

with open("testdata/bootstrap_quantlib.json", "w") as f:
    json.dump(out, f, indent=1)
