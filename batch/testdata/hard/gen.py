#!/usr/bin/python3
"""Generates the hard QuantLib 1.29 reference batches of batch/testdata/hard.

Run it with Debian's quantlib-python (pyenv's python3 shadows it):

    /usr/bin/python3 batch/testdata/hard/gen.py [--seed N] [--only FAMILY,...]
        [--scale X] [--out DIR]

It writes, beside itself (or in DIR; --scale multiplies the trade counts,
for stress runs that are not committed), <family>.batch.json (a batch in the
wire format, shared/spec/wire-format.md section 1) and
<family>.expected.json (QuantLib's values and the tolerance per measure,
copied from the matching file of batch/testdata/reference) for the families
european, barrier, asian_geometric, asian_arithmetic, fra, swap and bond. The shapes are those
of the reference batches; the parameters are harder: expiries from 1 day to
30 years, vols from 2% to 150%, negative rates, strikes from 0.3 to 3 times
spot, barriers next to spot and far from it, 1 to 52 fixings; curves with
odd pillars, negative rates and trades running past the last pillar; swaps
and bonds with every day count, calendar, convention and frequency, dates on
weekends, holidays and month ends, maturities up to 50 years, settlement
lags, seasoned bonds and short first coupons.

QuantLib set-up, as the wire spec fixes the conventions:
  - equity: BlackScholesMertonProcess on FlatForward (Actual/365 Fixed,
    continuous) rate and dividend curves and a BlackConstantVol;
    AnalyticEuropeanEngine, AnalyticBarrierEngine,
    AnalyticDiscreteGeometricAveragePriceAsianEngine and
    MCDiscreteArithmeticAPEngine (pseudo-random, control variate, ASIAN_PATHS
    samples; see gen_asian for the cases it leaves out or prices without the
    control variate);
  - curves: FlatForward, or ZeroCurve (Linear, Continuous, Actual/365 Fixed,
    extrapolation on) through the valuation date at the first pillar's rate;
  - FRA: Notional * (F - K) * tau * DF(end), F the simple forward of the
    curve under the FRA's day count;
  - swap: VanillaSwap with an IborIndex without fixing days on the trade's
    calendar and convention (par coupons), DiscountingSwapEngine; pv01 by
    ZeroSpreadedTermStructure +1bp on every curve the swap uses;
  - bond: FixedRateBond (payment convention = the trade's convention,
    redemption 100) with DiscountingBondEngine, Bond.bondYield and
    BondFunctions duration (modified) and convexity, compounded at the
    bond's frequency under its day count.

Cases QuantLib cannot price (NaN, infinities, missing past fixings) are
drawn again. The Go tests read the JSON only.
"""
import argparse
import json
import math
import os
import random
import sys

import QuantLib as ql

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE = os.path.join(HERE, "..", "reference")
OUT = HERE
VAL_ISO = "2026-11-25"
VAL = ql.Date(25, 11, 2026)
A365 = ql.Actual365Fixed()
ASIAN_PATHS = 400_000
NO_CV_EVERY = 6

DC = {"ACT/360": ql.Actual360(), "ACT/365F": ql.Actual365Fixed(),
      "30/360": ql.Thirty360(ql.Thirty360.BondBasis), "ACT/ACT": ql.ActualActual(ql.ActualActual.ISDA)}
CAL = {"none": ql.NullCalendar(), "weekends": ql.WeekendsOnly(), "TARGET": ql.TARGET()}
CONV = {"unadjusted": ql.Unadjusted, "following": ql.Following,
        "modifiedFollowing": ql.ModifiedFollowing, "preceding": ql.Preceding}
FREQ = {"annual": ql.Annual, "semiannual": ql.Semiannual, "quarterly": ql.Quarterly, "monthly": ql.Monthly}
MONTHS = {"annual": 12, "semiannual": 6, "quarterly": 3, "monthly": 1}

# Awkward dates: weekends, TARGET holidays, month ends, leap days.
AWKWARD = ["2026-11-28", "2026-11-29", "2026-11-30", "2026-12-25", "2026-12-26", "2026-12-31",
           "2027-01-01", "2027-01-31", "2027-02-27", "2027-02-28", "2027-03-26", "2027-03-29",
           "2027-04-30", "2027-05-01", "2027-07-31", "2027-10-31", "2027-12-31", "2028-02-29",
           "2028-04-14", "2028-04-17", "2028-08-31", "2028-12-25", "2029-03-31", "2029-06-30"]


def iso(d):
    return "%04d-%02d-%02d" % (d.year(), d.month(), d.dayOfMonth())


def date(s):
    y, m, d = map(int, s.split("-"))
    return ql.Date(d, m, y)


def rnd6(x):
    return round(x, 6)


def finite(*xs):
    return all(isinstance(x, float) and math.isfinite(x) for x in xs)


def tolerances(family):
    with open(os.path.join(REFERENCE, family + ".expected.json")) as f:
        return json.load(f)["tolerances"]


def write(family, measures, curves, underlyings, trades, results, tol):
    batch = {"id": "hard-" + family, "valuationDate": VAL_ISO}
    if measures:
        batch["measures"] = measures
    market = {"curves": curves}
    if underlyings:
        market["underlyings"] = underlyings
    batch["market"] = market
    batch["trades"] = trades
    with open(os.path.join(OUT, family + ".batch.json"), "w") as f:
        json.dump(batch, f, indent=1)
        f.write("\n")
    with open(os.path.join(OUT, family + ".expected.json"), "w") as f:
        json.dump({"tolerances": tol, "results": results}, f, indent=1)
        f.write("\n")
    print("%-16s %4d trades" % (family, len(trades)))


# ---------------------------------------------------------------- equity

def equity_market(rng):
    """Draws spot, vol, rate and dividend yield, harder than the reference."""
    spot = rnd6(math.exp(rng.uniform(math.log(5), math.log(2000))))
    u = rng.random()
    if u < 0.1:
        vol = rng.choice([0.02, 0.021, 1.5, 1.499])
    else:
        vol = rnd6(math.exp(rng.uniform(math.log(0.02), math.log(1.5))))
    u = rng.random()
    if u < 0.3:
        r = rnd6(rng.uniform(-0.02, 0.0))
    elif u < 0.35:
        r = 0.0
    else:
        r = rnd6(rng.uniform(0.0, 0.1))
    u = rng.random()
    q = 0.0 if u < 0.3 else rnd6(rng.uniform(0.0, 0.1))
    return spot, vol, r, q


def expiry_days(rng):
    u = rng.random()
    if u < 0.25:
        return rng.randint(1, 7)
    if u < 0.4:
        return rng.randint(8, 90)
    if u < 0.75:
        return rng.randint(91, 3650)
    return rng.randint(20 * 365, 30 * 365 + 7)


def strike_of(rng, spot):
    u = rng.random()
    if u < 0.1:
        return rnd6(spot * rng.choice([0.3, 3.0]))
    if u < 0.2:
        return spot
    return rnd6(spot * math.exp(rng.uniform(math.log(0.3), math.log(3.0))))


def process(spot, q, r, vol):
    s = ql.QuoteHandle(ql.SimpleQuote(spot))
    rts = ql.YieldTermStructureHandle(ql.FlatForward(VAL, r, A365))
    qts = ql.YieldTermStructureHandle(ql.FlatForward(VAL, q, A365))
    vts = ql.BlackVolTermStructureHandle(ql.BlackConstantVol(VAL, ql.NullCalendar(), vol, A365))
    return ql.BlackScholesMertonProcess(s, qts, rts, vts)


def payoff(right, strike):
    return ql.PlainVanillaPayoff(ql.Option.Call if right == "call" else ql.Option.Put, strike)


class Equity:
    """Collects one equity family: one curve and one underlying per trade."""

    def __init__(self):
        self.curves, self.unds, self.trades, self.results = {}, {}, [], []

    def add(self, i, spot, vol, r, q, trade, result):
        c, u = "C%d" % i, "U%d" % i
        self.curves[c] = {"rate": r}
        self.unds[u] = {"spot": spot, "dividendYield": q, "vol": vol, "curve": c}
        trade = dict(trade)
        trade["underlying"] = u
        self.trades.append(trade)
        self.results.append(result)


def gen_european(rng, n):
    fam = Equity()
    i = 0
    while len(fam.trades) < n:
        spot, vol, r, q = equity_market(rng)
        right = rng.choice(["call", "put"])
        k = strike_of(rng, spot)
        days = expiry_days(rng)
        qty = rng.choice([1, 1, 1, -5, 10, 2500, -0.37])
        opt = ql.VanillaOption(payoff(right, k), ql.EuropeanExercise(VAL + days))
        opt.setPricingEngine(ql.AnalyticEuropeanEngine(process(spot, q, r, vol)))
        vals = [opt.NPV(), opt.delta(), opt.gamma(), opt.vega(), opt.theta(), opt.rho()]
        if not finite(*vals):
            continue
        tid = "HE%d" % i
        trade = {"id": tid, "type": "european", "right": right, "strike": k,
                 "expiry": iso(VAL + days), "quantity": qty}
        res = {"id": tid}
        for name, v in zip(["npv", "delta", "gamma", "vega", "theta", "rho"], vals):
            res[name] = v * qty
        fam.add(i, spot, vol, r, q, trade, res)
        i += 1
    write("european", ["npv", "delta", "gamma", "vega", "theta", "rho"], fam.curves, fam.unds,
          fam.trades, fam.results, tolerances("european"))


BARRIER_TYPES = {"downIn": ql.Barrier.DownIn, "downOut": ql.Barrier.DownOut,
                 "upIn": ql.Barrier.UpIn, "upOut": ql.Barrier.UpOut}


def gen_barrier(rng, n):
    fam = Equity()
    i = 0
    while len(fam.trades) < n:
        spot, vol, r, q = equity_market(rng)
        right = rng.choice(["call", "put"])
        k = strike_of(rng, spot)
        days = expiry_days(rng)
        bt = rng.choice(list(BARRIER_TYPES))
        u = rng.random()
        if u < 0.05:
            dist = 0.0
        elif u < 0.35:
            dist = rng.uniform(1e-4, 0.02)
        else:
            dist = rng.uniform(0.02, 0.7)
        h = spot * (1 - dist) if bt.startswith("down") else spot * (1 + 2 * dist)
        h = rnd6(h)
        if (bt.startswith("down") and h > spot) or (bt.startswith("up") and h < spot):
            continue
        rebate = 0.0 if rng.random() < 0.4 else rnd6(rng.uniform(0, 0.2 * spot))
        opt = ql.BarrierOption(BARRIER_TYPES[bt], h, rebate, payoff(right, k), ql.EuropeanExercise(VAL + days))
        opt.setPricingEngine(ql.AnalyticBarrierEngine(process(spot, q, r, vol)))
        try:
            v = opt.NPV()
        except RuntimeError:
            continue
        if not finite(v):
            continue
        tid = "HB%d" % i
        trade = {"id": tid, "type": "barrier", "right": right, "strike": k, "expiry": iso(VAL + days),
                 "barrierType": bt, "barrier": h, "rebate": rebate}
        fam.add(i, spot, vol, r, q, trade, {"id": tid, "npv": v})
        i += 1
    write("barrier", None, fam.curves, fam.unds, fam.trades, fam.results, tolerances("barrier"))


def fixing_dates(rng, days, last_on_expiry):
    """1 to 52 fixing dates after the valuation date, the last on or before
    expiry (valuation date + days; on it if last_on_expiry): evenly spaced,
    or random."""
    n = min(rng.choice([1, 2, 3, 4, 5, 7, 12, 13, 26, 52, rng.randint(1, 52)]), days)
    if rng.random() < 0.6:
        step = days / n
        ds = sorted({max(1, int(round(step * (j + 1)))) for j in range(n)})
    else:
        ds = sorted(rng.sample(range(1, days + 1), n))
    if (last_on_expiry or rng.random() < 0.3) and ds[-1] != days:
        ds[-1] = days
    return [VAL + d for d in ds]


def gen_asian(rng, n, arithmetic):
    """Geometric Asians priced in closed form, or arithmetic ones by Monte
    Carlo with QuantLib's control variate. Two kinds of arithmetic case are
    left out of the latter, because no other implementation can meet the
    reference rule against them:

      - the last fixing before expiry: QuantLib's control path pricer
        discounts the geometric payoff from the last fixing while its closed
        form discounts from expiry, which biases its price by the geometric
        value times 1 - DF(last fixing)/DF(expiry). For those, every
        NO_CV_EVERY-th case, the reference is QuantLib's Monte Carlo without
        control variate (unbiased, with a larger error), so that pricefn's
        unbiased price is still checked;
      - an error estimate at rounding level (one fixing, or no path in the
        money, where every sample is the control variate's value): there
        QuantLib's plain summation of ASIAN_PATHS samples moves its mean by
        about sqrt(ASIAN_PATHS) of its own error estimate.
    """
    fam = Equity()
    i = 0
    while len(fam.trades) < n:
        spot, vol, r, q = equity_market(rng)
        right = rng.choice(["call", "put"])
        k = strike_of(rng, spot)
        no_cv = arithmetic and i % NO_CV_EVERY == NO_CV_EVERY - 1
        if arithmetic:
            days = rng.choice([rng.randint(1, 30), rng.randint(31, 1500), rng.randint(3650, 30 * 365)])
        else:
            days = expiry_days(rng)
        fix = fixing_dates(rng, days, arithmetic and not no_cv)
        expiry = VAL + days
        avg = ql.Average.Arithmetic if arithmetic else ql.Average.Geometric
        opt = ql.DiscreteAveragingAsianOption(avg, 0.0 if arithmetic else 1.0, 0, fix, payoff(right, k),
                                              ql.EuropeanExercise(expiry))
        proc = process(spot, q, r, vol)
        if arithmetic:
            eng = ql.MCDiscreteArithmeticAPEngine(proc, "pseudorandom", False, False, not no_cv,
                                                  4 * ASIAN_PATHS if no_cv else ASIAN_PATHS,
                                                  ql.nullDouble(), ql.nullInt(), 4242 + i)
        else:
            eng = ql.AnalyticDiscreteGeometricAveragePriceAsianEngine(proc)
        opt.setPricingEngine(eng)
        try:
            v = opt.NPV()
            se = opt.errorEstimate() if arithmetic else None
        except RuntimeError:
            continue
        if not finite(v) or (arithmetic and not finite(se)):
            continue
        if arithmetic and not se > 1e-10 * abs(v):
            continue  # QuantLib's error estimate is its rounding
        if no_cv and fix[-1] == expiry:
            continue
        tid = ("HAA%d" if arithmetic else "HAG%d") % i
        trade = {"id": tid, "type": "asian", "right": right, "strike": k, "expiry": iso(expiry),
                 "averaging": "arithmetic" if arithmetic else "geometric", "fixings": [iso(d) for d in fix]}
        res = {"id": tid, "npv": v}
        if arithmetic:
            res["npvStdErr"] = se
        fam.add(i, spot, vol, r, q, trade, res)
        i += 1
        if arithmetic and i % 10 == 0:
            print("asian_arithmetic: %d of %d" % (i, n), file=sys.stderr, flush=True)
    family = "asian_arithmetic" if arithmetic else "asian_geometric"
    write(family, None, fam.curves, fam.unds, fam.trades, fam.results, tolerances(family))


# ---------------------------------------------------------------- rates

def draw_curve(rng):
    """A flat curve or zero pillars at odd dates, rates possibly negative,
    sometimes ending well before the trades do. Returns the wire form. The
    forward rate QuantLib extrapolates beyond the last pillar stays within
    -4% and 12%, so that 50-year flows keep sane values."""
    if rng.random() < 0.3:
        return {"rate": rnd6(rng.uniform(-0.02, 0.08))}
    while True:
        n = rng.randint(1, 9)
        last = rng.choice([rng.randint(30, 3 * 365), rng.randint(3 * 365, 15 * 365),
                           rng.randint(15 * 365, 60 * 365)])
        days = sorted(set(rng.randint(1, last) for _ in range(n - 1)) | {last})
        base = rng.uniform(-0.02, 0.06)
        zeros = []
        for d in days:
            base += rng.gauss(0, 0.01)
            base = min(max(base, -0.03), 0.09)
            zeros.append({"date": iso(VAL + d), "rate": rnd6(base)})
        if len(zeros) == 1:
            return {"zeros": zeros}
        (t0, z0), (t1, z1) = [(days[j] / 365, zeros[j]["rate"]) for j in (-2, -1)]
        if -0.04 <= z1 + t1 * (z1 - z0) / (t1 - t0) <= 0.12:
            return {"zeros": zeros}


def ql_curve(w):
    if "rate" in w:
        c = ql.FlatForward(VAL, w["rate"], A365, ql.Continuous)
    else:
        ds = [date(z["date"]) for z in w["zeros"]]
        rs = [z["rate"] for z in w["zeros"]]
        c = ql.ZeroCurve([VAL] + ds, [rs[0]] + rs, A365, ql.NullCalendar(), ql.Linear(), ql.Continuous)
    c.enableExtrapolation()
    return c


def handle(c):
    return ql.YieldTermStructureHandle(c)


def shifted(c):
    s = ql.ZeroSpreadedTermStructure(handle(c), ql.QuoteHandle(ql.SimpleQuote(1e-4)), ql.Continuous,
                                     ql.NoFrequency, A365)
    s.enableExtrapolation()
    return s


def some_date(rng, lo_days, hi_days):
    """A date lo..hi days after the valuation date, often an awkward one."""
    if rng.random() < 0.35:
        cands = [d for d in AWKWARD if lo_days <= date(d) - VAL <= hi_days]
        if cands:
            return date(rng.choice(cands))
    d = VAL + rng.randint(lo_days, hi_days)
    if rng.random() < 0.2:  # a month end
        d = ql.Date.endOfMonth(d)
    return d


class Rates:
    def __init__(self):
        self.curves, self.trades, self.results = {}, [], []

    def curve(self, rng):
        name = "C%d" % len(self.curves)
        self.curves[name] = draw_curve(rng)
        return name


def gen_fra(rng, n):
    fam = Rates()
    i = 0
    while len(fam.trades) < n:
        cn = fam.curve(rng)
        c = ql_curve(fam.curves[cn])
        start = some_date(rng, 0, 5 * 365)
        end = start + rng.choice([1, 2, 7, rng.randint(20, 100), rng.randint(100, 400), rng.randint(400, 800)])
        if rng.random() < 0.3:
            end = ql.Date.endOfMonth(end)
        dcn = rng.choice(list(DC))
        k = rnd6(rng.uniform(-0.02, 0.08))
        nom = rng.choice([1e5, 1e6, 5e6, 1e8, 123456.78])
        pos = rng.choice(["long", "short"])
        tau = DC[dcn].yearFraction(start, end)
        if tau <= 0:
            continue
        f = (c.discount(start) / c.discount(end) - 1) / tau
        sign = 1 if pos == "long" else -1
        npv = sign * nom * (f - k) * tau * c.discount(end)
        tid = "HF%d" % i
        trade = {"id": tid, "type": "fra", "curve": cn, "notional": nom, "rate": k, "start": iso(start),
                 "end": iso(end), "dayCount": dcn, "position": pos}
        if dcn == "ACT/360" and rng.random() < 0.5:
            del trade["dayCount"]
        fam.trades.append(trade)
        fam.results.append({"id": tid, "npv": npv, "fairRate": f})
        i += 1
    write("fra", ["npv", "fairRate"], fam.curves, None, fam.trades, fam.results, tolerances("fra"))


def build_swap(disc, fwd, t):
    cal, conv = CAL[t["calendar"]], CONV[t["convention"]]
    fldc = DC[t["floatDayCount"]]
    idx = ql.IborIndex("X", ql.Period(FREQ[t["floatFrequency"]]), 0, ql.EURCurrency(), cal, conv, False, fldc,
                       handle(fwd))
    start, mat = date(t["start"]), date(t["maturity"])
    fs = ql.Schedule(start, mat, ql.Period(FREQ[t["fixedFrequency"]]), cal, conv, conv,
                     ql.DateGeneration.Backward, False)
    ls = ql.Schedule(start, mat, ql.Period(FREQ[t["floatFrequency"]]), cal, conv, conv,
                     ql.DateGeneration.Backward, False)
    typ = ql.VanillaSwap.Payer if t["side"] == "payFixed" else ql.VanillaSwap.Receiver
    s = ql.VanillaSwap(typ, t["notional"], fs, t["fixedRate"], DC[t["fixedDayCount"]], ls, idx,
                       t.get("spread", 0.0), fldc)
    s.setPricingEngine(ql.DiscountingSwapEngine(handle(disc)))
    return s


SWAP_DEFAULTS = [("fixedFrequency", "annual"), ("fixedDayCount", "30/360"), ("floatFrequency", "semiannual"),
                 ("floatDayCount", "ACT/360"), ("calendar", "weekends"), ("convention", "modifiedFollowing")]


def gen_swap(rng, n):
    fam = Rates()
    i = 0
    while len(fam.trades) < n:
        t = {"id": "HS%d" % i, "type": "swap"}
        t["curve"] = fam.curve(rng)
        forecast = None
        if rng.random() < 0.2:
            forecast = fam.curve(rng)
            t["forecastCurve"] = forecast
        t["notional"] = rng.choice([1e6, 1e7, 2.5e7, 1e8, 7654321.0])
        t["fixedRate"] = rnd6(rng.uniform(-0.01, 0.07))
        t["fixedFrequency"] = rng.choice(list(FREQ))
        t["floatFrequency"] = rng.choice(list(FREQ))
        t["fixedDayCount"] = rng.choice(list(DC))
        t["floatDayCount"] = rng.choice(list(DC))
        t["calendar"] = rng.choice(list(CAL))
        t["convention"] = rng.choice(list(CONV))
        t["side"] = rng.choice(["payFixed", "receiveFixed"])
        if rng.random() < 0.3:
            t["spread"] = rnd6(rng.uniform(-0.005, 0.01))
        u = rng.random()
        years = rng.choice([1, 2, 3, 5, 7, 10, 15, 20, 30, 40, 50])
        if u < 0.2:
            # Seasoned: a floating period starts on the valuation date.
            fm = MONTHS[t["floatFrequency"]]
            periods = max(1, years * 12 // fm)
            mat = VAL + ql.Period(periods * fm, ql.Months)
            start = VAL - ql.Period(rng.randint(1, 5 * 12), ql.Months) - rng.randint(0, 20)
        else:
            start = some_date(rng, 3, 2 * 365)
            if rng.random() < 0.5:
                mat = start + ql.Period(years, ql.Years)
            else:
                mat = start + rng.randint(40, years * 366)
        t["start"], t["maturity"] = iso(start), iso(mat)
        c = ql_curve(fam.curves[t["curve"]])
        f = ql_curve(fam.curves[forecast]) if forecast else c
        ql.Settings.instance().evaluationDate = VAL
        try:
            s = build_swap(c, f, t)
            npv, fair = s.NPV(), s.fairRate()
            sc = shifted(c)
            sf = shifted(f) if forecast else sc
            pv01 = build_swap(sc, sf, t).NPV() - npv
        except RuntimeError:
            continue  # a past fixing or a degenerate schedule
        if not finite(npv, fair, pv01):
            continue
        # Defaults are left out now and then, as clients do.
        for k, dflt in SWAP_DEFAULTS:
            if t[k] == dflt and rng.random() < 0.5:
                del t[k]
        fam.trades.append(t)
        fam.results.append({"id": t["id"], "npv": npv, "fairRate": fair, "pv01": pv01})
        i += 1
    write("swap", ["npv", "fairRate", "pv01"], fam.curves, None, fam.trades, fam.results, tolerances("swap"))


def gen_bond(rng, n):
    fam = Rates()
    i = 0
    while len(fam.trades) < n:
        t = {"id": "HBD%d" % i, "type": "bond"}
        t["curve"] = fam.curve(rng)
        t["face"] = rng.choice([100, 1000, 100, 250000, 37.5])
        t["coupon"] = rnd6(rng.choice([0.0, rng.uniform(0, 0.1), rng.uniform(0, 0.02)]))
        t["frequency"] = rng.choice(list(FREQ))
        t["dayCount"] = rng.choice(list(DC))
        t["calendar"] = rng.choice(list(CAL))
        t["convention"] = rng.choice(list(CONV))
        t["settlementDays"] = rng.choice([0, 0, 1, 2, 3, 5])
        u = rng.random()
        if u < 0.6:
            issue = VAL - rng.randint(1, 10 * 365)  # seasoned: accrued
        elif u < 0.8:
            issue = some_date(rng, 0, 60) if rng.random() < 0.5 else VAL - rng.randint(0, 40)
        else:
            issue = some_date(rng, 1, 365)  # forward issue
        if rng.random() < 0.2:
            issue = ql.Date.endOfMonth(issue)
        years = rng.choice([1, 2, 3, 5, 10, 20, 30, 40, 50])
        if rng.random() < 0.5:
            mat = issue + ql.Period(years, ql.Years)  # regular
        else:
            mat = issue + rng.randint(20, years * 366)  # odd first coupon
        if mat <= VAL + 10:
            continue
        t["issue"], t["maturity"] = iso(issue), iso(mat)
        c = ql_curve(fam.curves[t["curve"]])
        ql.Settings.instance().evaluationDate = VAL
        cal, conv, dc, fr = CAL[t["calendar"]], CONV[t["convention"]], DC[t["dayCount"]], FREQ[t["frequency"]]
        try:
            sch = ql.Schedule(issue, mat, ql.Period(fr), cal, conv, conv, ql.DateGeneration.Backward, False)
            b = ql.FixedRateBond(t["settlementDays"], t["face"], sch, [t["coupon"]], dc, conv, 100.0, issue)
            b.setPricingEngine(ql.DiscountingBondEngine(handle(c)))
            if b.settlementDate() >= b.maturityDate():
                continue
            npv, clean, dirty, acc = b.NPV(), b.cleanPrice(), b.dirtyPrice(), b.accruedAmount()
            y = b.bondYield(dc, ql.Compounded, fr)
            dur = ql.BondFunctions.duration(b, y, dc, ql.Compounded, fr, ql.Duration.Modified)
            cvx = ql.BondFunctions.convexity(b, y, dc, ql.Compounded, fr)
        except RuntimeError:
            continue
        if not finite(npv, clean, dirty, acc, y, dur, cvx):
            continue
        if t["settlementDays"] == 0 and rng.random() < 0.3:
            del t["settlementDays"]
        fam.trades.append(t)
        fam.results.append({"id": t["id"], "npv": npv, "cleanPrice": clean, "dirtyPrice": dirty, "accrued": acc,
                            "yield": y, "duration": dur, "convexity": cvx})
        i += 1
    write("bond", ["npv", "cleanPrice", "dirtyPrice", "accrued", "yield", "duration", "convexity"], fam.curves,
          None, fam.trades, fam.results, tolerances("bond"))


FAMILIES = {
    "european": lambda rng, k: gen_european(rng, int(400 * k)),
    "barrier": lambda rng, k: gen_barrier(rng, int(400 * k)),
    "asian_geometric": lambda rng, k: gen_asian(rng, int(200 * k), False),
    "asian_arithmetic": lambda rng, k: gen_asian(rng, int(30 * k), True),
    "fra": lambda rng, k: gen_fra(rng, int(150 * k)),
    "swap": lambda rng, k: gen_swap(rng, int(200 * k)),
    "bond": lambda rng, k: gen_bond(rng, int(200 * k)),
}


def main():
    global OUT
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=20261125)
    ap.add_argument("--only", default="", help="comma-separated families (default: all)")
    ap.add_argument("--scale", type=float, default=1, help="multiplies the number of trades of each family")
    ap.add_argument("--out", default=HERE, help="directory to write to (default: beside this script)")
    args = ap.parse_args()
    OUT = args.out
    os.makedirs(OUT, exist_ok=True)
    ql.Settings.instance().evaluationDate = VAL
    only = [f for f in args.only.split(",") if f] or list(FAMILIES)
    for fam in only:
        # Each family draws from its own stream, so one can be regenerated alone.
        FAMILIES[fam](random.Random("%d-%s" % (args.seed, fam)), args.scale)


if __name__ == "__main__":
    main()
