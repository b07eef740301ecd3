#!/usr/bin/env bash
# The state issue's check, on loopback with real processes: the four-process
# pipeline with two aggregator replicas on one redis-server, a batch of
# arithmetic Asians in ~60 chunks; the pricer SIGKILLed twice and once kept
# away for 30 s, one aggregator SIGKILLed and restarted mid-batch. The
# results must equal pricefn price's bit for bit, every trade once, and
# exactly one batch.completed must be announced. Takes about two minutes.
#
#   bench/chaos.sh            (N=300 trades; PORT0=19100 first port)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-300}
P=${PORT0:-19100}
BIN=bin/pricefn
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT
go build -o $BIN ./cmd/pricefn

REDIS=$((P)) BROKER=$((P+1)) INGRESS=$((P+2)) PRICER=$((P+3)) AGG_A=$((P+4)) AGG_B=$((P+5))
redis-server --port $REDIS --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK" >"$WORK/redis.log" 2>&1 &
STORE=redis://127.0.0.1:$REDIS/0
log() { echo "[$(date +%T)] $*"; }

start_pricer() { PORT=$PRICER $BIN pricer --addr 127.0.0.1:$PRICER --log-level warn >>"$WORK/pricer.log" 2>&1 & echo $! >"$WORK/pricer.pid"; }
start_agg() { # name port
  K_SINK=http://127.0.0.1:$BROKER/ $BIN aggregator --addr 127.0.0.1:$2 --store $STORE >>"$WORK/agg-$1.log" 2>&1 &
  echo $! >"$WORK/agg-$1.pid"
}
$BIN broker --addr 127.0.0.1:$BROKER --log-level warn \
  --subscriber pricefn-ingress=http://127.0.0.1:$INGRESS \
  --subscriber pricefn-pricer=http://127.0.0.1:$PRICER --concurrency pricefn-pricer=2 \
  --subscriber pricefn-aggregator=http://127.0.0.1:$AGG_A,http://127.0.0.1:$AGG_B >"$WORK/broker.log" 2>&1 &
K_SINK=http://127.0.0.1:$BROKER/ $BIN ingress --addr 127.0.0.1:$INGRESS --store $STORE --chunk-cost 300ms \
  --public-url http://127.0.0.1:$AGG_B --log-level warn >"$WORK/ingress.log" 2>&1 &
start_pricer
start_agg a $AGG_A
start_agg b $AGG_B
sleep 1

# Arithmetic Asians at the default paths (500,000): no "paths" field.
$BIN gen --type asian-arithmetic -n "$N" --seed 11 --id "chaos-$$-$RANDOM" | sed 's/,"paths":10000//' >"$WORK/batch.json"
log "pricing in process"
$BIN price "$WORK/batch.json" >"$WORK/want.json"

log "submitting"
$BIN submit "$WORK/batch.json" --url 127.0.0.1:$INGRESS --timeout 10m >"$WORK/got.json" 2>"$WORK/submit.log" &
SUBMIT=$!
sleep 3
log "pricer SIGKILL 1";            kill -9 "$(cat "$WORK/pricer.pid")"; sleep 1; start_pricer
sleep 3
log "aggregator a SIGKILL";        kill -9 "$(cat "$WORK/agg-a.pid")"; sleep 2; start_agg a $AGG_A
sleep 2
log "pricer SIGKILL 2, away 30 s"; kill -9 "$(cat "$WORK/pricer.pid")"; sleep 30; start_pricer
log "pricer back"
wait $SUBMIT && ok=0 || ok=$?
tail -n 3 "$WORK/submit.log"
[ "$ok" = 0 ] || { echo "FAIL: submit exited $ok"; cat "$WORK/submit.log"; exit 1; }
cmp -s "$WORK/want.json" "$WORK/got.json" || { echo "FAIL: results differ from pricefn price"; exit 1; }
trades=$(grep -o '"id":"[^"]*"' "$WORK/got.json" | sort | uniq | wc -l)
[ "$trades" = "$N" ] || { echo "FAIL: $trades distinct trades, want $N"; exit 1; }
finished=$(cat "$WORK"/agg-*.log | grep -c '"message":"batch finished"' || true)
[ "$finished" = 1 ] || { echo "FAIL: $finished batch.completed announcements, want 1"; exit 1; }
dups=$(cat "$WORK"/agg-*.log | grep -c 'duplicate chunk ignored' || true)
dead=$(cat "$WORK"/agg-*.log | grep -c 'chunk dead-lettered' || true)
echo "PASS: results equal pricefn price's, $trades trades once each, 1 batch.completed; $dups duplicate chunks absorbed, $dead dead letters"
