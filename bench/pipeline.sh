#!/usr/bin/env bash
# Times one batch of N Europeans (all greeks) through "pricefn price" and end
# to end through "pricefn dev" + "pricefn submit", RUNS times each, checks
# that the pipeline's results equal pricefn price's, and prints the medians
# and their ratio (the pipeline's throughput against pricefn price's).
# The engine gets one batch first, not timed: it is a running server, whose
# first batch also pays for mapping the memory the next ones reuse (that
# first time is printed too). Then, after FILL more batches have filled
# its store and more have let its heap settle (SETTLE at most), RUNS more
# are timed: the engine as it runs for long.
# Then the issue's other two figures on the same engine: compute-heavy
# batches (200 arithmetic Asians at default paths, 2,000 Americans on the
# FD engine), pricefn price against end to end, RUNS each, results checked;
# and the per-chunk overhead, in microseconds, of CHUNKS one-trade batches:
# submission to the chunk recorded, less its pricing (the status timeline).
# Usage: make bench-pipeline [N=100000] [RUNS=5] [FILL=...] [SETTLE=30] [CHUNKS=60]   (needs bin/pricefn, curl, python3)
set -eu
PF=${PF:-bin/pricefn}
N=${N:-100000}
RUNS=${RUNS:-5}
ADDR=${ADDR:-127.0.0.1:18111}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

# wall FILE CMD...: runs CMD, appends its wall seconds to FILE, prints them
# with the user and system CPU seconds (bash's time, to the millisecond,
# no process of its own).
wall() {
  local out=$1 w u s TIMEFORMAT='%3R %3U %3S'
  shift
  { time "$@" 2>&3; } 3>&2 2> "$dir/t"
  read -r w u s < "$dir/t"
  echo "$w" >> "$out"
  echo "$w s wall, $u s user, $s s sys"
}
# with_id ID OUT [FILE]: the batch (FILE's, by default the N Europeans')
# with id ID (an id is an idempotency key: each submission takes a fresh
# one) into OUT.
with_id() { sed "s/\"valuationDate\"/\"id\": \"$1\", \"valuationDate\"/" "${3:-$dir/batch.json}" > "$2"; }
# same_results FILE: fails unless FILE's results are pricefn price's.
same_results() {
  python3 -c '
import json, sys
a = json.load(open(sys.argv[1]))["results"]
b = json.load(open(sys.argv[2]))["results"]
print("  results equal to pricefn price:", a == b, "(%d trades)" % len(b))
sys.exit(0 if a == b else 1)' "$dir/price.json" "$1"
}
# ratio P E: P over E, two decimals.
ratio() { awk -v p="$1" -v e="$2" 'BEGIN {printf "%.2f", p/e}'; }
median() { sort -n "$1" | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

$PF gen --type european -n "$N" --measures npv,delta,gamma,vega,theta,rho --out "$dir/batch.json"
echo "batch: $N Europeans, $(du -h "$dir/batch.json" | cut -f1); load: $(cut -d' ' -f1-3 /proc/loadavg)"
for i in $(seq "$RUNS"); do
  echo -n "pricefn price: "
  wall "$dir/price.times" $PF price --out "$dir/price.json" "$dir/batch.json"
done

$PF dev --addr "$ADDR" --log-format json > "$dir/dev.log" 2>&1 &
dev=$!
trap 'kill $dev 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 100); do curl -sf "http://$ADDR/healthz" > /dev/null && break; sleep 0.1; done
for i in $(seq 0 "$RUNS"); do
  with_id "bench-$i-$$" "$dir/batch-$i.json"
  times="$dir/submit.times"
  if [ "$i" = 0 ]; then
    echo -n "pricefn submit (end to end), the engine's first batch, not counted: "
    times="$dir/first.times"
  else
    echo -n "pricefn submit (end to end): "
  fi
  wall "$times" $PF submit --quiet --url "http://$ADDR" --out "$dir/submit-$i.json" "$dir/batch-$i.json"
  same_results "$dir/submit-$i.json"
done
# Then the engine as it is once it has run a while: its memory store full
# (a third of pricefn dev's 768 MiB heap limit, some fourteen of these
# batches), each batch's memory one the store forgot and the collector
# reuses, not fresh from the system (fresh memory is dear in a virtual
# machine: bench/README.md, "Memory given back"). FILL more batches, not
# timed; then more, while the engine's peak RSS still grows (its heap's
# footprint follows twice its live heap, and settles some ten batches
# after the store is full: session 24), up to SETTLE more; then RUNS timed
# back to back, their results checked after.
size=$(stat -c %s "$dir/batch.json")
FILL=${FILL:-$(awk -v s="$size" 'BEGIN {f = int(256 * 2^20 / (1.8 * s)) + 2; print (f > 40 ? 40 : f)}')}
SETTLE=${SETTLE:-30}
echo "filling the engine's store: $FILL more batches, not timed"
fill() {
  with_id "fill-$1-$$" "$dir/fill.json"
  $PF submit --quiet --url "http://$ADDR" --out "$dir/fill-out.json" "$dir/fill.json"
}
for i in $(seq "$FILL"); do fill "$i"; done
# peak: the engine's peak RSS in MB.
peak() { awk '/^VmHWM/ {print int($2 / 1024)}' "/proc/$dev/status"; }
# Settled once three batches in a row (SETTLE, when fewer) grew the peak
# by at most 8 MB.
need=$((SETTLE < 3 ? SETTLE : 3))
calm=0 more=0 last=$(peak)
while [ "$calm" -lt "$need" ] && [ "$more" -lt "$SETTLE" ]; do
  more=$((more + 1))
  fill "settle-$more"
  now=$(peak)
  if [ $((now - last)) -le 8 ]; then calm=$((calm + 1)); else calm=0; fi
  last=$now
done
if [ "$SETTLE" -le 0 ]; then
  echo "not waiting for the engine's heap to settle (SETTLE=0): its peak RSS is $last MB"
elif [ "$calm" -ge "$need" ]; then
  echo "the engine's peak RSS settled at $last MB after $more more batches, not timed"
else
  echo "the engine's peak RSS still grew after $more more batches (at $last MB): the store-full figures include that growth"
fi
for i in $(seq "$RUNS"); do
  with_id "steady-$i-$$" "$dir/steady-$i.json"
done
for i in $(seq "$RUNS"); do
  echo -n "pricefn submit (end to end), the store full: "
  wall "$dir/steady.times" $PF submit --quiet --url "http://$ADDR" --out "$dir/steady-out-$i.json" "$dir/steady-$i.json"
done
for i in $(seq "$RUNS"); do
  same_results "$dir/steady-out-$i.json"
done

# heavy NAME TAG FILE: RUNS of pricefn price and RUNS end to end through the
# running engine, alternating (both meet the machine's slow phases alike),
# each checked, and the ratio of their medians.
heavy() {
  local name=$1 tag=$2 file=$3 i
  rm -f "$dir/hp.times" "$dir/he.times"
  for i in $(seq "$RUNS"); do
    echo -n "$name, pricefn price: "
    wall "$dir/hp.times" $PF price --out "$dir/price.json" "$file"
    with_id "$tag-$i-$$" "$dir/heavy.json" "$file"
    echo -n "$name, pricefn submit (end to end): "
    wall "$dir/he.times" $PF submit --quiet --url "http://$ADDR" --out "$dir/heavy-out.json" "$dir/heavy.json"
    same_results "$dir/heavy-out.json"
  done
  heavy_ratios="$heavy_ratios
median of $RUNS, $name: pricefn price $(median "$dir/hp.times") s, end to end $(median "$dir/he.times") s; throughput ratio $(ratio "$(median "$dir/hp.times")" "$(median "$dir/he.times")") (goal 0.9)"
}
heavy_ratios=
$PF gen --type asian-arithmetic -n 200 --out "$dir/asians.json"
heavy "200 arithmetic Asians" asians "$dir/asians.json"
$PF gen --type american -n 2000 | sed 's/"type":"american",/"type":"american","engine":"fd",/' > "$dir/americans.json"
heavy "2,000 FD Americans" americans "$dir/americans.json"

# The per-chunk overhead: one-trade batches one after another (ten not
# counted), each from its submission (ingress has the body) to its chunk
# recorded by the aggregator, less the pricer's time on it (delivered to
# priced); the hops, the broker and the store.
CHUNKS=${CHUNKS:-60}
$PF gen --type european -n 1 --out "$dir/one.json"
overhead=$(python3 - "http://$ADDR" "$dir/one.json" "$CHUNKS" "$$" <<'PY'
import json, sys, urllib.request
from datetime import datetime
url, path, n, pid = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
doc = json.load(open(path))
def at(s):  # RFC 3339 with nanoseconds (none on a whole second), to microseconds
    head, _, frac = s.rstrip("Z").partition(".")
    return datetime.fromisoformat(head).timestamp() + float("0." + (frac or "0"))
us = []
for i in range(n + 10):
    doc["id"] = "overhead-%d-%s" % (i, pid)
    req = urllib.request.Request(url + "/batches", data=json.dumps(doc).encode(), headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req).read()
    urllib.request.urlopen(url + "/batches/%s/results?wait=30s" % doc["id"]).read()
    st = json.load(urllib.request.urlopen(url + "/batches/%s?timeline=true" % doc["id"]))
    c = st["timeline"][0]
    if st["state"] != "completed" or c["state"] != "priced":
        sys.exit("batch %s: %s" % (doc["id"], st["state"]))
    if i >= 10:
        us.append(1e6 * ((at(c["recordedAt"]) - at(st["timings"]["submittedAt"])) - (at(c["pricedAt"]) - at(c["deliveredAt"]))))
us.sort()
print("per-chunk overhead, %d one-trade batches: median %.0f us, p90 %.0f us" % (len(us), us[len(us) // 2], us[int(0.9 * len(us))]))
PY
)
kill -TERM $dev
wait $dev || true
grep '"batch finished"' "$dir/dev.log" | grep -E '"batchid":"(bench|steady)-' | python3 -c '
import json, sys
for line in sys.stdin:
    e = json.loads(line)
    print("  server side %s: %.2f s from submission to completion" % (e["batchid"], e["seconds"]))'
p=$(median "$dir/price.times")
e=$(median "$dir/submit.times")
f=$(median "$dir/steady.times")
echo "median of $RUNS: pricefn price $p s, end to end $e s; throughput ratio $(ratio "$p" "$e") (pricefn price's time over the pipeline's)"
echo "median of $RUNS, the store full: end to end $f s; throughput ratio $(ratio "$p" "$f")"
echo "$heavy_ratios" | sed 1d
echo "$overhead"
