#!/bin/sh
# bench/difftest/run.sh OLD_BIN NEW_BIN [N] [PORT]: the differential test
# of two pricefn binaries, for a change that promises the same behaviour
# (every results document, status, message, field path and exit code the
# same to the byte). See bench/difftest/README.md.
#
# Generates N batches (default 3000; seed $SEED, default 1) into $CASES
# (default /tmp/pricefn-difftest/cases-N-SEED, reused when it exists): the
# seeds (OLD_BIN gen of every trade type, the reference and hard batches,
# the fuzz corpora), big batches and mutations aimed at the decoder
# (gen.py). Then `pricefn price` of both on each case (compare.py), and the
# pipeline pass on every $EVERY-th case (default 10) and every seed:
# `pricefn dev` of each on PORT and PORT+1 (default 23400), curl-like
# requests and `pricefn submit` (pipeline.py). Differences go to $OUT
# (default /tmp/pricefn-difftest/out-TIME), each with its input; the counts
# are printed last. Exit 1 if anything differed. PIPELINE=0 skips the
# pipeline pass; DEV_FLAGS are added to pricefn dev's flags (e.g.
# "--chunk-trades 2 --internal-http"). $REPO (default: this script's repository, else /work/main)
# gives the testdata.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=${REPO:-$(cd "$HERE/../.." && pwd)}
[ -f "$REPO/go.mod" ] || REPO=/work/main # a copy outside the repository
OLD=$1 NEW=$2 N=${3:-3000} PORT=${4:-23400}
SEED=${SEED:-1} EVERY=${EVERY:-10}
WORK=${WORK:-/tmp/pricefn-difftest}
CASES=${CASES:-$WORK/cases-$N-$SEED}
OUT=${OUT:-$WORK/out-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
if [ ! -d "$CASES" ]; then
	seeds=$CASES.seeds
	mkdir -p "$seeds"
	for t in european european-put american barrier asian asian-arithmetic fra swap bond swaption capfloor seed-put; do
		"$OLD" gen --type $t -n 3 --measures npv,delta,gamma,vega,theta,rho --id g-$t >"$seeds/gen-$t.json" || exit 2
	done
	"$OLD" gen --type european -n 2 --scenarios 3 --measures npv,delta --id g-scenarios >"$seeds/gen-scenarios.json" || exit 2
	# Over the decoder's 1 MiB parallel threshold (ingress's plan).
	"$OLD" gen --type european -n 11000 --measures npv,delta --id big-european >"$seeds/big-european.json" || exit 2
	"$OLD" gen --type swap -n 9000 --id big-swap >"$seeds/big-swap.json" || exit 2
	nice -n 10 python3 "$HERE/gen.py" "$CASES" "$N" "$SEED" "$seeds" "$REPO" || exit 2
fi
echo "old: $OLD ($("$OLD" version 2>&1 | head -1))"
echo "new: $NEW ($("$NEW" version 2>&1 | head -1))"
echo "cases: $CASES ($(ls "$CASES" | wc -l)), differences: $OUT"
rc=0
nice -n 10 python3 "$HERE/compare.py" "$OLD" "$NEW" "$CASES" "$OUT" >"$OUT/price.txt" || rc=1
cat "$OUT/price.txt"
if [ "${PIPELINE:-1}" != 0 ]; then
	nice -n 10 python3 "$HERE/pipeline.py" "$OLD" "$NEW" "$CASES" "$OUT" "$PORT" "$EVERY" >"$OUT/pipeline.txt" || rc=1
	cat "$OUT/pipeline.txt"
fi
echo "== summary"
tail -n 2 "$OUT/price.txt"
[ "${PIPELINE:-1}" != 0 ] && tail -n 1 "$OUT/pipeline.txt"
exit $rc
