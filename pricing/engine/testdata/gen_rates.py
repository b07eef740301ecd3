#!/usr/bin/env python3
"""Prints the QuantLib 1.29 reference values of swap_test.go, bond_test.go
and fra_test.go as Go table rows. Run with Debian's quantlib-python:
/usr/bin/python3 testdata/gen_rates.py. The Go tests do not run it.
"""
import QuantLib as ql

DC = {"Act360": ql.Actual360(), "Act365Fixed": ql.Actual365Fixed(),
      "Thirty360": ql.Thirty360(ql.Thirty360.BondBasis), "ActActISDA": ql.ActualActual(ql.ActualActual.ISDA)}
CAL = {"NoHolidays": ql.NullCalendar(), "WeekendsOnly": ql.WeekendsOnly(), "TARGET": ql.TARGET()}
CONV = {"Unadjusted": ql.Unadjusted, "Following": ql.Following,
        "ModifiedFollowing": ql.ModifiedFollowing, "Preceding": ql.Preceding}
FREQ = {"Annual": ql.Annual, "Semiannual": ql.Semiannual, "Quarterly": ql.Quarterly, "Monthly": ql.Monthly}


def date(s):
    y, m, d = map(int, s.split("-"))
    return ql.Date(d, m, y)


# The curves of ratesMarket in rates_test.go.
ZEROS = [("2027-05-25", 0.021), ("2028-11-25", 0.026), ("2031-11-25", 0.031), ("2036-11-25", 0.034), ("2056-11-25", 0.036)]


def curves(asof):
    flat = ql.FlatForward(asof, 0.03, ql.Actual365Fixed(), ql.Continuous)
    fwd = ql.FlatForward(asof, 0.0345, ql.Actual365Fixed(), ql.Continuous)
    ds = [date(d) for d, _ in ZEROS]
    rs = [r for _, r in ZEROS]
    zc = ql.ZeroCurve([asof] + ds, [rs[0]] + rs, ql.Actual365Fixed(), ql.NullCalendar(), ql.Linear(), ql.Continuous)
    zc.enableExtrapolation()
    return {"flat": flat, "fwd": fwd, "zeros": zc}


def handle(c):
    return ql.YieldTermStructureHandle(c)


def shifted(c):
    return ql.ZeroSpreadedTermStructure(handle(c), ql.QuoteHandle(ql.SimpleQuote(1e-4)), ql.Continuous,
                                        ql.NoFrequency, ql.Actual365Fixed())


SWAPS = [
    # asOf, curve, forecast, notional, rate, start, maturity, payFixed, fixF, fixDC, fltF, fltDC, spread, cal, conv
    ("2026-11-25", "zeros", "", 10e6, 0.031, "2026-11-25", "2036-11-25", True, "Annual", "Thirty360", "Semiannual", "Act360", 0, "TARGET", "ModifiedFollowing"),
    ("2026-11-25", "zeros", "fwd", 25e6, 0.029, "2027-02-24", "2041-02-24", False, "Semiannual", "ActActISDA", "Quarterly", "Act365Fixed", 0.0015, "TARGET", "ModifiedFollowing"),
    ("2026-11-25", "flat", "", 5e6, 0.0305, "2025-11-25", "2030-11-25", True, "Annual", "Act365Fixed", "Quarterly", "Act360", 0, "NoHolidays", "Unadjusted"),
    ("2026-11-25", "zeros", "", 1e6, 0.027, "2026-12-26", "2029-08-31", True, "Monthly", "Thirty360", "Monthly", "Act360", -0.0005, "WeekendsOnly", "Unadjusted"),
    ("2026-11-28", "flat", "zeros", 7e6, 0.025, "2026-11-30", "2033-05-31", False, "Quarterly", "Act360", "Semiannual", "Act360", 0, "WeekendsOnly", "Preceding"),
    # seasoned, with a paid 30/360 float period of no length (2026-03-30 to 03-31)
    ("2026-11-30", "flat", "", 1e6, 0.03, "2026-03-30", "2027-05-31", True, "Monthly", "Act360", "Monthly", "Thirty360", 0, "NoHolidays", "Unadjusted"),
]

print("// swaps")
for (asof_s, cn, fn, nom, rate, st, mat, payer, fxf, fxdc, flf, fldc, spread, cal, conv) in SWAPS:
    asof = date(asof_s)
    ql.Settings.instance().evaluationDate = asof
    cs = curves(asof)

    def build(disc, fwd):
        idx = ql.IborIndex("X", ql.Period(FREQ[flf]), 0, ql.EURCurrency(), CAL[cal], CONV[conv], False, DC[fldc], handle(fwd))
        fs = ql.Schedule(date(st), date(mat), ql.Period(FREQ[fxf]), CAL[cal], CONV[conv], CONV[conv], ql.DateGeneration.Backward, False)
        ls = ql.Schedule(date(st), date(mat), ql.Period(FREQ[flf]), CAL[cal], CONV[conv], CONV[conv], ql.DateGeneration.Backward, False)
        typ = ql.VanillaSwap.Payer if payer else ql.VanillaSwap.Receiver
        s = ql.VanillaSwap(typ, nom, fs, rate, DC[fxdc], ls, idx, spread, DC[fldc])
        s.setPricingEngine(ql.DiscountingSwapEngine(handle(disc)))
        return s
    disc, fwd = cs[cn], cs[fn or cn]
    if st < asof_s:  # the fixing of the running coupon is on the valuation date itself
        pass
    s = build(disc, fwd)
    sd = shifted(disc)
    sf = sd if not fn else shifted(fwd)
    s2 = build(sd, sf)
    print('{"%s", "%s", "%s", %g, %r, "%s", "%s", %s, dates.%s, dates.%s, dates.%s, dates.%s, %r, dates.%s, dates.%s, %r, %r, %r},' % (
        asof_s, cn, fn, nom, rate, st, mat, "instrument.PayFixed" if payer else "instrument.ReceiveFixed",
        fxf, fxdc, flf, fldc, spread, cal, conv, s.NPV(), s.fairRate(), s2.NPV() - s.NPV()))

BONDS = [
    # asOf, curve, face, coupon, issue, maturity, freq, dc, cal, conv, settlementDays
    ("2026-11-25", "zeros", 100, 0.0325, "2024-03-15", "2034-03-15", "Semiannual", "ActActISDA", "TARGET", "ModifiedFollowing", 2),
    ("2026-11-28", "flat", 1000, 0.045, "2025-08-31", "2035-02-28", "Semiannual", "Thirty360", "WeekendsOnly", "Following", 0),
    ("2026-11-25", "zeros", 100, 0.05, "2021-11-26", "2031-11-26", "Annual", "Act365Fixed", "TARGET", "Unadjusted", 3),
    ("2026-11-25", "flat", 100, 0.02, "2026-12-10", "2030-12-10", "Quarterly", "Act360", "NoHolidays", "Unadjusted", 1),
    ("2026-11-25", "zeros", 500, 0.0, "2026-01-31", "2046-07-31", "Monthly", "Thirty360", "TARGET", "Preceding", 0),
]
print("// bonds")
for (asof_s, cn, face, cpn, iss, mat, fr, dc, cal, conv, sd) in BONDS:
    asof = date(asof_s)
    ql.Settings.instance().evaluationDate = asof
    cs = curves(asof)
    sch = ql.Schedule(date(iss), date(mat), ql.Period(FREQ[fr]), CAL[cal], CONV[conv], CONV[conv], ql.DateGeneration.Backward, False)
    b = ql.FixedRateBond(sd, face, sch, [cpn], DC[dc], CONV[conv], 100.0, date(iss))
    b.setPricingEngine(ql.DiscountingBondEngine(handle(cs[cn])))
    y = b.bondYield(DC[dc], ql.Compounded, FREQ[fr])
    dur = ql.BondFunctions.duration(b, y, DC[dc], ql.Compounded, FREQ[fr], ql.Duration.Modified)
    cvx = ql.BondFunctions.convexity(b, y, DC[dc], ql.Compounded, FREQ[fr])
    print('{"%s", "%s", %g, %r, "%s", "%s", dates.%s, dates.%s, dates.%s, dates.%s, %d, %r, %r, %r, %r, %r, %r, %r}, // settles %s' % (
        asof_s, cn, face, cpn, iss, mat, fr, dc, cal, conv, sd, b.NPV(), b.cleanPrice(), b.dirtyPrice(),
        b.accruedAmount(), y, dur, cvx, b.settlementDate().ISO()))

FRAS = [
    # asOf, curve, forecast, notional, rate, start, end, dc, long
    ("2026-11-25", "zeros", "", 5e6, 0.024, "2027-05-25", "2027-11-25", "Act360", True),
    ("2026-11-25", "flat", "fwd", 1e6, 0.031, "2026-11-25", "2027-02-25", "Act365Fixed", False),
    ("2026-11-25", "zeros", "", 2e6, 0.03, "2029-01-31", "2029-04-30", "Thirty360", True),
]
print("// FRAs")
for (asof_s, cn, fn, nom, k, st, en, dc, long_) in FRAS:
    asof = date(asof_s)
    ql.Settings.instance().evaluationDate = asof
    cs = curves(asof)
    disc, fwd = cs[cn], cs[fn or cn]
    tau = DC[dc].yearFraction(date(st), date(en))
    F = (fwd.discount(date(st)) / fwd.discount(date(en)) - 1) / tau
    sign = 1 if long_ else -1
    npv = sign * nom * (F - k) * tau * disc.discount(date(en))
    print('{"%s", "%s", "%s", %g, %r, "%s", "%s", dates.%s, %s, %r, %r},' % (
        asof_s, cn, fn, nom, k, st, en, dc, "instrument.Long" if long_ else "instrument.Short", npv, F))

# Bonds that settle on or after their last payment: QuantLib prices npv (the
# flows after the valuation date), dirty = clean = accrued = 0 (no notional
# at settlement); BondFunctions' yield, duration and convexity throw "non
# tradable" (Bond::yield itself returns 0).
SETTLED = [
    # asOf, curve, face, coupon, issue, maturity, freq, dc, cal, conv, settlementDays
    ("2026-11-25", "flat", 100, 0.0125, "2024-11-30", "2026-11-30", "Monthly", "Thirty360", "WeekendsOnly", "ModifiedFollowing", 3),
    ("2026-11-25", "zeros", 100, 0.0325, "2024-03-15", "2026-11-26", "Semiannual", "ActActISDA", "TARGET", "ModifiedFollowing", 5),
]
print("// bonds settling at or after maturity")
for (asof_s, cn, face, cpn, iss, mat, fr, dc, cal, conv, sd) in SETTLED:
    asof = date(asof_s)
    ql.Settings.instance().evaluationDate = asof
    cs = curves(asof)
    sch = ql.Schedule(date(iss), date(mat), ql.Period(FREQ[fr]), CAL[cal], CONV[conv], CONV[conv], ql.DateGeneration.Backward, False)
    b = ql.FixedRateBond(sd, face, sch, [cpn], DC[dc], CONV[conv], 100.0, date(iss))
    b.setPricingEngine(ql.DiscountingBondEngine(handle(cs[cn])))
    try:
        ql.BondFunctions.bondYield(b, 100.0, DC[dc], ql.Compounded, FREQ[fr])
        raise SystemExit("QuantLib gave a yield for a bond settling at maturity")
    except RuntimeError as e:
        assert "non tradable" in str(e), e
    print('{"%s", "%s", %g, %r, "%s", "%s", dates.%s, dates.%s, dates.%s, dates.%s, %d, %r, %r, %r, %r, 0, 0, 0}, // settles %s' % (
        asof_s, cn, face, cpn, iss, mat, fr, dc, cal, conv, sd, b.NPV(), b.cleanPrice(), b.dirtyPrice(),
        b.accruedAmount(), b.settlementDate().ISO()))

# Bonds maturing on the valuation date: QuantLib excludes the flows on it
# (includeReferenceDateEvents false), so npv is 0 unless the calendar rolls
# the last payment past it (a Saturday maturity paid Monday); they settle on
# or after their last payment, so prices are 0 and yield, duration and
# convexity throw "non tradable". pv01 is the npv change on the curve's
# zero rates shifted by 1bp.
MATURING = [
    # asOf, curve, face, coupon, issue, maturity, freq, dc, cal, conv, settlementDays
    ("2026-11-25", "zeros", 100, 0.0325, "2024-03-15", "2026-11-25", "Semiannual", "ActActISDA", "TARGET", "ModifiedFollowing", 2),
    ("2026-11-25", "flat", 100, 0.0125, "2024-11-30", "2026-11-25", "Monthly", "Thirty360", "WeekendsOnly", "ModifiedFollowing", 0),
    ("2026-11-28", "flat", 1000, 0.045, "2025-08-31", "2026-11-28", "Semiannual", "Thirty360", "WeekendsOnly", "Following", 0),
    ("2026-11-28", "zeros", 100, 0.05, "2021-11-28", "2026-11-28", "Annual", "Act365Fixed", "TARGET", "Preceding", 1),
]
print("// bonds maturing on the valuation date")
for (asof_s, cn, face, cpn, iss, mat, fr, dc, cal, conv, sd) in MATURING:
    asof = date(asof_s)
    ql.Settings.instance().evaluationDate = asof
    cs = curves(asof)

    def build(c):
        sch = ql.Schedule(date(iss), date(mat), ql.Period(FREQ[fr]), CAL[cal], CONV[conv], CONV[conv], ql.DateGeneration.Backward, False)
        b = ql.FixedRateBond(sd, face, sch, [cpn], DC[dc], CONV[conv], 100.0, date(iss))
        b.setPricingEngine(ql.DiscountingBondEngine(handle(c)))
        return b
    b = build(cs[cn])
    pv01 = build(shifted(cs[cn])).NPV() - b.NPV()
    for f in (lambda: ql.BondFunctions.bondYield(b, 100.0, DC[dc], ql.Compounded, FREQ[fr]),
              lambda: ql.BondFunctions.duration(b, 0.03, DC[dc], ql.Compounded, FREQ[fr], ql.Duration.Modified),
              lambda: ql.BondFunctions.convexity(b, 0.03, DC[dc], ql.Compounded, FREQ[fr])):
        try:
            f()
            raise SystemExit("QuantLib gave a yield, duration or convexity for a bond maturing on the valuation date")
        except RuntimeError as e:
            assert "non tradable" in str(e), e
    print('{bondCase{"%s", "%s", %g, %r, "%s", "%s", dates.%s, dates.%s, dates.%s, dates.%s, %d, %r, %r, %r, %r, 0, 0, 0}, %r, "%s"}, // settles %s' % (
        asof_s, cn, face, cpn, iss, mat, fr, dc, cal, conv, sd, b.NPV(), b.cleanPrice(), b.dirtyPrice(),
        b.accruedAmount(), pv01, b.cashflows()[-1].date().ISO(), b.settlementDate().ISO()))
