#!/usr/bin/env bash
# Times one batch of N Europeans (all greeks) through "pricefn price" and end
# to end through "pricefn dev" + "pricefn submit", three times each, and
# checks that the pipeline's results equal pricefn price's.
# Usage: make bench-pipeline [N=100000]   (needs bin/pricefn, curl, python3)
set -eu
PF=${PF:-bin/pricefn}
N=${N:-100000}
ADDR=${ADDR:-127.0.0.1:18111}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
TIMEFORMAT='%R s wall, %U s user'

$PF gen --type european -n "$N" --measures npv,delta,gamma,vega,theta,rho --out "$dir/batch.json"
echo "batch: $N Europeans, $(du -h "$dir/batch.json" | cut -f1); load: $(cut -d' ' -f1-3 /proc/loadavg)"
for i in 1 2 3; do
  echo -n "pricefn price: "
  time $PF price --out "$dir/price.json" "$dir/batch.json"
done

$PF dev --addr "$ADDR" --log-format json > "$dir/dev.log" 2>&1 &
dev=$!
trap 'kill $dev 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 100); do curl -sf "http://$ADDR/healthz" > /dev/null && break; sleep 0.1; done
for i in 1 2 3; do
  # A fresh batch id each time: an id is an idempotency key.
  sed "s/\"valuationDate\"/\"id\": \"bench-$i-$$\", \"valuationDate\"/" "$dir/batch.json" > "$dir/batch-$i.json"
  echo -n "pricefn submit (end to end): "
  time $PF submit --quiet --url "http://$ADDR" --out "$dir/submit-$i.json" "$dir/batch-$i.json"
  python3 -c '
import json, sys
a = json.load(open(sys.argv[1]))["results"]
b = json.load(open(sys.argv[2]))["results"]
print("  results equal to pricefn price:", a == b, "(%d trades)" % len(b))
sys.exit(0 if a == b else 1)' "$dir/price.json" "$dir/submit-$i.json"
done
kill -TERM $dev
wait $dev || true
grep '"batch finished"' "$dir/dev.log" | python3 -c '
import json, sys
for line in sys.stdin:
    e = json.loads(line)
    print("  server side %s: %.2f s from submission to completion" % (e["batchid"], e["seconds"]))'
