#!/usr/bin/env python3
"""Regenerates the QuantLib 1.29 golden files of this folder.

Run from pricing/dates with Debian's QuantLib: apt-get install quantlib-python;
/usr/bin/python3 testdata/quantlib_gen.py. The Go tests read the CSVs only.
"""
import random

import QuantLib as ql

rng = random.Random(20261125)


def iso(d):
    return "%04d-%02d-%02d" % (d.year(), d.month(), d.dayOfMonth())


def rand_date(lo=1995, hi=2075):
    y = rng.randint(lo, hi)
    m = rng.randint(1, 12)
    last = ql.Date.endOfMonth(ql.Date(1, m, y)).dayOfMonth()
    # Month ends and the 28th-31st are where conventions differ: weight them.
    d = rng.choice([last, last, last - 1, 30 if last >= 30 else last, 1, rng.randint(1, last), rng.randint(1, last)])
    return ql.Date(min(d, last), m, y)


dcs = [
    ("ACT/360", ql.Actual360()),
    ("ACT/365F", ql.Actual365Fixed()),
    ("30/360", ql.Thirty360(ql.Thirty360.BondBasis)),
    ("ACT/ACT", ql.ActualActual(ql.ActualActual.ISDA)),
]
with open("testdata/daycount_quantlib.csv", "w") as f:
    f.write("d1,d2," + ",".join(n for n, _ in dcs) + "\n")
    for _ in range(800):
        d1 = rand_date()
        d2 = d1 + rng.choice([rng.randint(0, 120), rng.randint(0, 400), rng.randint(0, 12000)])
        if rng.random() < 0.05:
            d1, d2 = d2, d1
        f.write("%s,%s,%s\n" % (iso(d1), iso(d2), ",".join(repr(dc.yearFraction(d1, d2)) for _, dc in dcs)))

with open("testdata/target_quantlib.csv", "w") as f:
    f.write("holiday\n")
    for d in ql.Calendar.holidayList(ql.TARGET(), ql.Date(1, 1, 1990), ql.Date(31, 12, 2150), False):
        f.write(iso(d) + "\n")

cals = [("none", ql.NullCalendar()), ("weekends", ql.WeekendsOnly()), ("TARGET", ql.TARGET())]
convs = [("unadjusted", ql.Unadjusted), ("following", ql.Following),
         ("modifiedFollowing", ql.ModifiedFollowing), ("preceding", ql.Preceding)]
freqs = [("annual", ql.Annual), ("semiannual", ql.Semiannual), ("quarterly", ql.Quarterly), ("monthly", ql.Monthly)]

with open("testdata/adjust_quantlib.csv", "w") as f:
    f.write("date,calendar," + ",".join(n for n, _ in convs) + ",advance0,advance2,advance-3\n")
    for _ in range(600):
        d = rand_date(1999, 2060)
        cn, cal = rng.choice(cals)
        f.write("%s,%s,%s,%s,%s,%s\n" % (iso(d), cn, ",".join(iso(cal.adjust(d, c)) for _, c in convs),
                                          iso(cal.advance(d, 0, ql.Days)), iso(cal.advance(d, 2, ql.Days)),
                                          iso(cal.advance(d, -3, ql.Days))))

with open("testdata/schedule_quantlib.csv", "w") as f:
    f.write("start,end,frequency,calendar,convention,dates\n")
    for _ in range(300):
        start = rand_date(2000, 2050)
        end = start + rng.choice([rng.randint(1, 70), rng.randint(20, 800), rng.randint(300, 11000)])
        fn, fr = rng.choice(freqs)
        cn, cal = rng.choice(cals)
        vn, conv = rng.choice(convs)
        s = ql.Schedule(start, end, ql.Period(fr), cal, conv, conv, ql.DateGeneration.Backward, False)
        f.write("%s,%s,%s,%s,%s,%s\n" % (iso(start), iso(end), fn, cn, vn, " ".join(iso(d) for d in s)))
