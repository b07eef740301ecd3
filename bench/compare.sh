#!/usr/bin/env bash
# make bench-compare: prices the same trades with pricefn's engines and with
# QuantLib's (bench/quantlib/compare.cpp against Debian's libquantlib0-dev,
# built here when missing), one after the other on one core each, and
# prints a table: figure, ours, QuantLib, ratio (QuantLib's time over
# ours), and how far the two sums of npvs agree. Times are CPU time per
# trade (getrusage / CLOCK_PROCESS_CPUTIME_ID), so that other load on the
# machine changes them less than wall time. See bench/README.md.
# Usage: make bench-compare [MIN=0.3]   (MIN: least CPU seconds per figure)
set -eu
QL_BIN=${QL_BIN:-bin/quantlib-compare}
MIN=${MIN:-0.3}
GO=${GO:-go}
src=bench/quantlib/compare.cpp

if [ ! -f /usr/include/ql/quantlib.hpp ] || ! command -v g++ >/dev/null 2>&1; then
  echo "installing libquantlib0-dev and g++ (QuantLib's side of the comparison)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libquantlib0-dev g++ >/dev/null
fi
if [ ! -x "$QL_BIN" ] || [ "$src" -nt "$QL_BIN" ]; then
  echo "building $QL_BIN against QuantLib $(sed -n 's/.*QL_VERSION "\(.*\)".*/\1/p' /usr/include/ql/version.hpp) (about 30 s)"
  mkdir -p "$(dirname "$QL_BIN")"
  g++ -O2 -o "$QL_BIN" "$src" -lQuantLib
fi

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
$GO build -o "$dir/ours" ./bench/compare
"$dir/ours" -dir "$dir" -min "$MIN" > "$dir/ours.txt"
"$QL_BIN" "$dir" "$MIN" > "$dir/ql.txt"

echo "load: $(cut -d' ' -f1-3 /proc/loadavg); CPU time per trade, one core each, the same trades"
awk '
function show(ns) { return ns >= 1e6 ? sprintf("%.2f ms", ns/1e6) : ns >= 1e4 ? sprintf("%.1f us", ns/1e3) : sprintf("%.0f ns", ns) }
function abs(x) { return x < 0 ? -x : x }
BEGIN {
  label["european"] = "European npv + 5 greeks (QL: term structures + BlackCalculator, as its engine)"
  label["european-formula"] = "European npv + 5 greeks (QL: BlackCalculator alone, inputs given)"
  label["barrier"] = "Barrier npv (QL AnalyticBarrierEngine)"
  label["american"] = "American QdFp (ours npv+delta+gamma+theta; QL QdFp high precision, npv)"
  label["asian"] = "Arithmetic Asian MC, control variate, at equal std error"
  label["heston"] = "Heston npv (ours adaptive to 1e-11; QL AP + Gauss-Laguerre 128)"
  label["swap"] = "Swap npv + fair rate (QL VanillaSwap, DiscountingSwapEngine)"
}
FNR == NR { ours[$1] = $2; osum[$1] = $3; ose[$1] = $4; order[++n] = $1; next }
{ ql[$1] = $2; qsum[$1] = $3; qse[$1] = $4 }
END {
  printf "%-84s %10s %10s %8s  %s\n", "figure", "ours", "QuantLib", "ratio", "npv sums agree to"
  for (i = 1; i <= n; i++) {
    f = order[i]; o = ours[f]; q = ql[f]; note = ""
    if (f == "asian" && ose[f] > 0) {
      # Time for equal standard error: variance falls as 1/samples.
      q = q * (qse[f] / ose[f])^2
      note = sprintf(" (std error ours %.2g, QL %.2g at equal samples)", ose[f], qse[f])
    }
    d = abs(osum[f] - qsum[f]) / (abs(qsum[f]) > 1 ? abs(qsum[f]) : 1)
    printf "%-84s %10s %10s %7.1fx  %.1e%s\n", label[f], show(o), show(q), q / o, d, note
  }
}' "$dir/ours.txt" "$dir/ql.txt"
