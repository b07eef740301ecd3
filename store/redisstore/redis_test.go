package redisstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pricefn/pricefn/store"
	"github.com/pricefn/pricefn/store/redisstore"
	"github.com/pricefn/pricefn/store/redisstore/redistest"
	"github.com/pricefn/pricefn/store/storetest"
)

func TestRedisConformance(t *testing.T) {
	srv := redistest.Start(t)
	storetest.Run(t, func(t *testing.T, opt store.Options) store.Store {
		srv.Flush(t)
		s, err := redisstore.Open(context.Background(), srv.URL, opt)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// Two stores on one Redis are two replicas: what one records, the other
// sees, and its waiters wake.
func TestRedisReplicasShareState(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	open := func() *redisstore.Store {
		s, err := redisstore.Open(ctx, srv.URL, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	a, b := open(), open()
	ref := store.RefOf("shared")
	changed, stop, _ := b.Watch(ctx, ref)
	defer stop()
	if _, err := a.Claim(ctx, store.Batch{Ref: ref, Digest: "d", TradeIDs: []string{"T1"}, ChunkOffsets: []int{0}}); err != nil {
		t.Fatal(err)
	}
	<-changed
	if u, err := b.Put(ctx, ref, "d", 1, store.Chunk{Index: 0, State: store.ChunkPriced, Results: []byte(`{"id":"T1"}`)}); err != nil || !u.Announce {
		t.Fatalf("put on the other replica: %+v %v", u, err)
	}
	sum, err := a.Summary(ctx, ref)
	if err != nil || sum.State() != store.StateCompleted {
		t.Fatalf("summary on the first replica: %v %v", sum, err)
	}
}

// A change published while a replica's subscription is down (its
// connection dropped) is lost to it, and its waiters, a ?wait on the
// results among them, slept on until their wait's cap (5 minutes by
// default). Once resubscribed, it wakes them all to look again.
func TestRedisWakesWaitersAfterReconnect(t *testing.T) {
	s, rdb := storeAndClient(t)
	ctx := context.Background()
	changed, stop, _ := s.Watch(ctx, store.RefOf("waited"))
	defer stop()
	// The subscription dropped and the change published in one step: the
	// message cannot reach the subscriber.
	_, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.ClientKillByFilter(ctx, "TYPE", "pubsub")
		p.Publish(ctx, "pricefn:changed", "_/waited")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-changed:
	case <-time.After(10 * time.Second):
		t.Fatal("the waiter slept on after the subscription came back")
	}
	// And the subscription works again.
	again, stop2, _ := s.Watch(ctx, store.RefOf("later"))
	defer stop2()
	if err := rdb.Publish(ctx, "pricefn:changed", "_/later").Err(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-again:
	case <-time.After(10 * time.Second):
		t.Fatal("no wake-up after the reconnect")
	}
}

func TestOpenBadURL(t *testing.T) {
	if _, err := redisstore.Open(context.Background(), "redis://127.0.0.1:1/0", store.Options{}); err == nil {
		t.Error("no error for a Redis that is not there")
	}
	if _, err := redisstore.Open(context.Background(), "http://x", store.Options{}); err == nil {
		t.Error("no error for a URL that is not redis://")
	}
}

// TestRedisClaimRecordsLostTrades: a claim's trade ids were written after
// its script. When they never were (the claim's reply timed out on a
// stalled Redis, so ingress answered 503, and the script ran later; or
// ingress was killed between the two), the batch stood claimed without
// them: a retry found it, sent its chunks again, and every outcome was
// refused ("batch not found ... chunk 8"), the priced work lost. The claim
// script now writes them itself; a claim that finds its batch not yet sent
// and without them (an earlier release's claim) records them.
func TestRedisClaimRecordsLostTrades(t *testing.T) {
	ctx := context.Background()
	s, rdb := storeAndClient(t)
	ref := store.RefOf("lost")
	b := store.Batch{Ref: ref, Digest: "d", TradeIDs: []string{"T1", "T2", "T3"}, ChunkOffsets: []int{0, 2}}
	if c, err := s.Claim(ctx, b); err != nil || !c.New {
		t.Fatalf("claim %+v %v", c, err)
	}
	ids, err := rdb.Keys(ctx, "*:a1:ids").Result()
	if err != nil || len(ids) != 1 {
		t.Fatalf("the attempt's ids key: %v %v", ids, err)
	}
	if err := rdb.Del(ctx, ids[0]).Err(); err != nil { // as if never written
		t.Fatal(err)
	}
	if _, err := s.Trades(ctx, ref, 1, 1); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("trades of chunk 1 with the ids gone: %v, want ErrNotFound", err)
	}
	if c, err := s.Claim(ctx, b); err != nil || c.New || c.Attempt != 1 {
		t.Fatalf("the retry's claim %+v %v, want the batch as it is", c, err)
	}
	if got, err := s.Trades(ctx, ref, 1, 1); err != nil || len(got) != 1 || got[0] != "T3" {
		t.Fatalf("trades of chunk 1 after the retry: %v %v, want [T3]", got, err)
	}
	if _, err := s.Put(ctx, ref, "d", 1, store.Chunk{Index: 1, State: store.ChunkPriced, Results: []byte(`{"id":"T3"}`)}); err != nil {
		t.Fatalf("an outcome after the retry: %v", err)
	}
	// Sent, the batch is not touched again: its trades are the claim's.
	if err := s.Sent(ctx, ref, "d", 1, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Del(ctx, ids[0]).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Claim(ctx, b); err != nil {
		t.Fatal(err)
	}
	if n, _ := rdb.Exists(ctx, ids[0]).Result(); n != 0 {
		t.Errorf("a sent batch's claim wrote its trades again")
	}
}

// TestRedisClaimAfterAnEarlierReleasesAnnouncement: a batch ended and
// announced by a release before the claims' lease (announced, with no
// announcedAt nor announceBy) is priced again when resubmitted, not
// answered "being announced" until it expires.
func TestRedisClaimAfterAnEarlierReleasesAnnouncement(t *testing.T) {
	ctx := context.Background()
	s, rdb := storeAndClient(t)
	ref := store.RefOf("old")
	b := store.Batch{Ref: ref, Digest: "d", TradeIDs: []string{"T1"}, ChunkOffsets: []int{0}}
	if _, err := s.Claim(ctx, b); err != nil {
		t.Fatal(err)
	}
	u, err := s.Put(ctx, ref, "d", 1, store.Chunk{Index: 0, State: store.ChunkDead, Reason: "gone"})
	if err != nil || !u.Announce {
		t.Fatalf("put: %+v %v", u, err)
	}
	if _, err := s.Claim(ctx, b); !errors.Is(err, store.ErrAnnouncing) {
		t.Fatalf("claim while the end's announcement is claimed: %v, want ErrAnnouncing", err)
	}
	metas, err := rdb.Keys(ctx, "*{_/old}:meta").Result()
	if err != nil || len(metas) != 1 {
		t.Fatalf("meta key: %v %v", metas, err)
	}
	// As an earlier release left it: announced, and nothing else.
	if err := rdb.HDel(ctx, metas[0], "announceBy", "announcedAt").Err(); err != nil {
		t.Fatal(err)
	}
	if c, err := s.Claim(ctx, b); err != nil || !c.New || c.Attempt != 2 {
		t.Fatalf("claim of an earlier release's announced batch: %+v %v, want attempt 2", c, err)
	}
}

// storeAndClient opens a store on a Redis of its own, and a plain client
// of that Redis, to change what the store wrote as another release would
// have left it.
func storeAndClient(t *testing.T) (*redisstore.Store, *redis.Client) {
	t.Helper()
	srv := redistest.Start(t)
	// The tests on it check what the store keeps, not its timeouts:
	// under the race detector on a loaded machine a goroutine may start
	// its read after the default second (i/o timeout).
	url := srv.URL + "?read_timeout=10s&write_timeout=10s"
	s, err := redisstore.Open(context.Background(), url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	return s, rdb
}

// TestOpenKeepsThePasswordOutOfItsError: a store URL that does not parse
// (a password with an unencoded '%', as generated ones have) was quoted
// whole in the error, into the pod's log and events.
func TestOpenKeepsThePasswordOutOfItsError(t *testing.T) {
	_, err := redisstore.Open(context.Background(), "redis://:Wrong%zzSecretPw@127.0.0.1:1/0", store.Options{})
	if err == nil || strings.Contains(err.Error(), "SecretPw") || strings.Contains(err.Error(), "%zz") || !strings.Contains(err.Error(), "does not parse") {
		t.Errorf("error %v: want one that says the URL does not parse, without its password", err)
	}
}

// TestRedisLayoutReadsTheChunkAlone: Layout takes a chunk's bounds from
// its own entry of the ids hash, not from the batch's offsets, which are
// its chunks long: read for each outcome, they were n² for a batch of n
// chunks (4 MB each at 500,000). The offsets are still read for a batch
// an earlier release claimed, whose entries have none.
func TestRedisLayoutReadsTheChunkAlone(t *testing.T) {
	s, rdb := storeAndClient(t)
	ctx := context.Background()
	ref := store.RefOf("lay")
	if _, err := s.Claim(ctx, store.Batch{Ref: ref, Digest: "d", TradeIDs: []string{"T0", "T1", "T2", "T3", "T4"}, ChunkOffsets: []int{0, 2, 2, 4}}); err != nil {
		t.Fatal(err)
	}
	const meta, ids = "pricefn:b:{_/lay}:meta", "pricefn:b:{_/lay}:a1:ids"
	// Offsets that are not the batch's: Layout does not read them.
	if err := rdb.HSet(ctx, meta, "offsets", "[9,9,9,9]").Err(); err != nil {
		t.Fatal(err)
	}
	for i, want := range [][2]int{{0, 2}, {2, 2}, {2, 4}, {4, 5}} {
		l, err := s.Layout(ctx, ref, i)
		if err != nil || l.Lo != want[0] || l.Hi != want[1] || l.Chunks != 4 || l.Attempt != 1 || l.Digest != "d" {
			t.Errorf("layout of chunk %d: %+v %v, want [%d, %d) of 4 chunks", i, l, err, want[0], want[1])
		}
	}
	// A claim of an earlier release: ids without offsets.
	if err := rdb.HSet(ctx, meta, "offsets", "[0,2,2,4]").Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.HSet(ctx, ids, "3", `{"ids":["T4"]}`).Err(); err != nil {
		t.Fatal(err)
	}
	if l, err := s.Layout(ctx, ref, 3); err != nil || l.Lo != 4 || l.Hi != 5 {
		t.Errorf("layout of chunk 3 claimed by an earlier release: %+v %v, want [4, 5)", l, err)
	}
}

// TestRedisBriefOfEarlierRecord: a batch recorded by a release that kept
// no lastAt (its meta hash without the field, outcomes recorded) is
// briefed from its chunks, with its latest outcome's time, not year 1.
func TestRedisBriefOfEarlierRecord(t *testing.T) {
	s, rdb := storeAndClient(t)
	ctx := context.Background()
	ref := store.RefOf("old")
	if _, err := s.Claim(ctx, store.Batch{Ref: ref, Digest: "d", TradeIDs: []string{"T1", "T2"}, ChunkOffsets: []int{0, 1}}); err != nil {
		t.Fatal(err)
	}
	at := time.Unix(1e9, 5).UTC()
	if _, err := s.Put(ctx, ref, "d", 1, store.Chunk{Index: 1, State: store.ChunkDead, Reason: "gone", ArrivedAt: at}); err != nil {
		t.Fatal(err)
	}
	if err := rdb.HDel(ctx, "pricefn:b:{_/old}:meta", "lastAt").Err(); err != nil {
		t.Fatal(err)
	}
	b, err := s.Brief(ctx, ref)
	if err != nil || b.Done != 1 || b.Dead != 1 || !b.LastAt.Equal(at) || b.State() != store.StateRunning {
		t.Errorf("brief %+v %v, want 1 chunk done, dead, at %s", b, err, at)
	}
}

// TestRedisTallyReadsNoChunks: Tally reads the tally the scripts keep in
// the meta hash, not the batch's chunks (no HGETALL of its chunks hash,
// 100,000 entries for a batch of 100,000 chunks), and agrees with the
// Summary's; a batch claimed by a release that kept none is added up from
// its chunks, as is one an earlier release recorded outcomes of.
func TestRedisTallyReadsNoChunks(t *testing.T) {
	s, rdb := storeAndClient(t)
	ctx := context.Background()
	const n = 300
	b := store.Batch{Ref: store.RefOf("many"), Digest: "d", SubmittedAt: time.Unix(1e9, 0).UTC()}
	for i := range n {
		b.TradeIDs, b.ChunkOffsets = append(b.TradeIDs, fmt.Sprintf("T%d", i)), append(b.ChunkOffsets, i)
	}
	if _, err := s.Claim(ctx, b); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		c := store.Chunk{Index: i, State: store.ChunkPriced, Trades: 1, Partials: map[string]map[string][]float64{"": {"npv": {0.1 * float64(i), 1e-20}}},
			StartedAt: time.Unix(1e9, 0), FinishedAt: time.Unix(1e9, int64(i)), ArrivedAt: time.Unix(1e9+int64(i%7), 0).UTC()}
		if i%3 == 0 {
			c = store.Chunk{Index: i, State: store.ChunkDead, Reason: fmt.Sprint("dead ", i), ArrivedAt: c.ArrivedAt}
		}
		if _, err := s.Put(ctx, b.Ref, "d", 1, c); err != nil {
			t.Fatal(err)
		}
	}
	want, err := s.Summary(ctx, b.Ref)
	if err != nil {
		t.Fatal(err)
	}
	wantTally := want.TallyOf()
	same := func(got *store.Tally) bool {
		return got.ChunksDone == n && got.ChunksDead == n/3 && got.Priced == wantTally.Priced && got.Missing == n/3 && got.Pricing == wantTally.Pricing &&
			got.FirstAt.Equal(wantTally.FirstAt) && got.LastAt.Equal(wantTally.LastAt) && len(got.FirstDead) == store.MaxFirstDead &&
			got.FirstDead[99].Index == 297 && got.FirstDead[99].Reason == "dead 297" && got.Totals[""]["npv"].Sum.Value() == wantTally.Totals[""]["npv"].Sum.Value()
	}
	if err := rdb.ConfigResetStat(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	got, err := s.Tally(ctx, b.Ref)
	if err != nil || !same(got) {
		t.Errorf("tally %+v %v, want as the summary's %+v", got, err, wantTally)
	}
	if stats := rdb.Info(ctx, "commandstats").Val(); strings.Contains(stats, "cmdstat_hgetall") {
		t.Errorf("Tally read the chunks:\n%s", stats)
	}
	// An outcome recorded by a replica of an earlier release, which kept
	// no tally: the tally has one less than done.
	if err := rdb.HIncrBy(ctx, "pricefn:b:{_/many}:meta", "tallied", -1).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.HIncrBy(ctx, "pricefn:b:{_/many}:meta", "priced", -1).Err(); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Tally(ctx, b.Ref); err != nil || !same(got) {
		t.Errorf("tally of a batch with an outcome recorded by an earlier release %+v %v, want as the summary's %+v", got, err, wantTally)
	}
	if err := rdb.HDel(ctx, "pricefn:b:{_/many}:meta", "scenario").Err(); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Tally(ctx, b.Ref); err != nil || !same(got) {
		t.Errorf("tally of a batch claimed by an earlier release %+v %v, want as the summary's %+v", got, err, wantTally)
	}
}

// TestRedisPutAddsNoSums: a put rewrites none of the batch's sums,
// whatever their number (each put decoded and encoded them all: 20 ms of
// Redis, every client waiting, for 200 underlyings by 8 measures); a
// read adds up the chunks recorded since the last (a page of them at a
// time), folds them in, and has the totals the chunks add up to, to the
// bit, reads and puts racing included, another attempt's chunks listed
// not. A sum past float64's range is the infinity of its sign, as the
// chunks add up to (it was +Inf whatever its sign).
func TestRedisPutAddsNoSums(t *testing.T) {
	s, rdb := storeAndClient(t)
	ctx := context.Background()
	const n = 220 // the first read's pending chunks more than a page
	b := store.Batch{Ref: store.RefOf("wide"), Digest: "d", SubmittedAt: time.Unix(1e9, 0).UTC()}
	for i := range n {
		b.TradeIDs, b.ChunkOffsets = append(b.TradeIDs, fmt.Sprintf("T%d", i)), append(b.ChunkOffsets, i)
	}
	if _, err := s.Claim(ctx, b); err != nil {
		t.Fatal(err)
	}
	const meta = "pricefn:b:{_/wide}:meta"
	put := func(i int) {
		ps := map[string]map[string][]float64{"big": {"npv": {-1.5e308}}}
		for u := range 20 {
			ps[fmt.Sprint("U", u)] = map[string][]float64{}
			for _, m := range []string{"npv", "delta", "gamma", "vega"} {
				ps[fmt.Sprint("U", u)][m] = []float64{1e-17 * float64(u), 0.1 * float64(i+u)}
			}
		}
		c := store.Chunk{Index: i, State: store.ChunkPriced, Trades: 1, Partials: ps}
		if _, err := s.Put(ctx, b.Ref, "d", 1, c); err != nil {
			t.Error(err)
		}
	}
	same := func(what string) {
		t.Helper()
		got, err := s.Tally(ctx, b.Ref)
		if err != nil {
			t.Fatal(err)
		}
		sum, err := s.Summary(ctx, b.Ref)
		if err != nil {
			t.Fatal(err)
		}
		want := sum.TallyOf()
		if len(got.Totals) != len(want.Totals) || got.Priced != want.Priced {
			t.Fatalf("%s: tally of %d underlyings, %d priced, want %d, %d", what, len(got.Totals), got.Priced, len(want.Totals), want.Priced)
		}
		for u, ms := range want.Totals {
			for m, w := range ms {
				g := got.Totals[u][m]
				if g == nil || g.Beyond != w.Beyond || math.Float64bits(g.Sum.Value()) != math.Float64bits(w.Sum.Value()) {
					t.Fatalf("%s: total %s %s %+v, want %+v (%v)", what, u, m, g, w, w.Sum.Value())
				}
			}
		}
	}
	for i := range n / 2 {
		put(i)
		for _, f := range []string{"totals", "sums"} {
			if l := rdb.HStrLen(ctx, meta, f).Val(); l != 0 {
				t.Errorf("put of chunk %d wrote the batch's %s (%d bytes)", i, f, l)
			}
		}
	}
	same("after the puts")
	if l := rdb.LLen(ctx, "pricefn:b:{_/wide}:pending").Val(); l != 0 {
		t.Errorf("%d chunks pending once read, want 0", l)
	}
	same("read again")
	// A chunk listed under the attempt a claim of an earlier release
	// replaced (it deletes no pending list) is not this attempt's.
	if err := rdb.RPush(ctx, "pricefn:b:{_/wide}:pending", "0:3").Err(); err != nil {
		t.Fatal(err)
	}
	same("with another attempt's chunk listed")
	var wg sync.WaitGroup
	for i := n / 2; i < n; i++ {
		wg.Add(2)
		go func() { defer wg.Done(); put(i) }()
		go func() {
			defer wg.Done()
			if _, err := s.Tally(ctx, b.Ref); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	same("after puts and reads racing")
	// The totals a put of an earlier release added to (a rolling
	// upgrade) are added to the sums folded in.
	want, err := s.Tally(ctx, b.Ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := rdb.HSet(ctx, meta, "totals", `{"[\"U1\",\"npv\"]":"0.5,1e-30"}`).Err(); err != nil {
		t.Fatal(err)
	}
	w := want.Totals["U1"]["npv"].Sum.Clone()
	w.Add(0.5)
	w.Add(1e-30)
	if got, err := s.Tally(ctx, b.Ref); err != nil || got.Totals["U1"]["npv"].Sum.Value() != w.Value() {
		t.Errorf("tally with an earlier release's totals %v %v, want %v", got.Totals["U1"]["npv"], err, w.Value())
	}
}

// TestRedisTallyKeepsAnEarlierReleaseOffItsSums: a replica of the
// release before the pending list (a rolling upgrade) reads a batch's
// totals from the meta hash when its tallied is done, and would miss the
// sums of every outcome this release recorded (in sums and the pending
// list): their count is not in tallied, so it adds the batch up from its
// chunks. This release still reads its tally, not the chunks.
func TestRedisTallyKeepsAnEarlierReleaseOffItsSums(t *testing.T) {
	s, rdb := storeAndClient(t)
	ctx := context.Background()
	b := store.Batch{Ref: store.RefOf("up"), Digest: "d", TradeIDs: []string{"T1", "T2", "T3"}, ChunkOffsets: []int{0, 1, 2}, Deadline: time.Now().Add(time.Hour)}
	if _, err := s.Claim(ctx, b); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		c := store.Chunk{Index: i, State: store.ChunkPriced, Trades: 1, Partials: map[string]map[string][]float64{"": {"npv": {0.25 * float64(i+1)}}}}
		if _, err := s.Put(ctx, b.Ref, "d", 1, c); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Expire(ctx, b.Ref, 1, time.Now().Add(2*time.Hour), "late"); err != nil {
		t.Fatal(err)
	}
	f := rdb.HMGet(ctx, "pricefn:b:{_/up}:meta", "tallied", "done").Val()
	if tallied, _ := f[0].(string); tallied == f[1] {
		t.Errorf("tallied %v of %v done: an earlier release reads totals without the sums of this one's outcomes", f[0], f[1])
	}
	if err := rdb.ConfigResetStat(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	got, err := s.Tally(ctx, b.Ref)
	if err != nil || got.ChunksDone != 3 || got.ChunksDead != 1 || got.Priced != 2 || got.Totals[""]["npv"].Sum.Value() != 0.75 {
		t.Errorf("tally %+v %v, want 3 done, 1 dead, 2 priced, npv 0.75", got, err)
	}
	if stats := rdb.Info(ctx, "commandstats").Val(); strings.Contains(stats, "cmdstat_hgetall") {
		t.Errorf("Tally read the chunks:\n%s", stats)
	}
}

// TestRedisClaimAgainReadsNoChunks: a batch submitted again while it
// runs is told from its tally, not its chunks (no HGETALL): a client
// retrying a batch of 1,000,000 chunks had every chunk's entry read for
// each submission.
func TestRedisClaimAgainReadsNoChunks(t *testing.T) {
	s, rdb := storeAndClient(t)
	ctx := context.Background()
	b := store.Batch{Ref: store.RefOf("again"), Digest: "d", TradeIDs: []string{"T1", "T2"}, ChunkOffsets: []int{0, 1}}
	if _, err := s.Claim(ctx, b); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, b.Ref, "d", 1, store.Chunk{Index: 1, State: store.ChunkPriced, Trades: 1, Results: []byte(`{"id":"T2"}`)}); err != nil {
		t.Fatal(err)
	}
	if err := rdb.ConfigResetStat(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	c, err := s.Claim(ctx, b)
	if err != nil || c.New || c.Attempt != 1 || c.State != store.StateRunning {
		t.Errorf("claim again: %+v %v, want attempt 1 running", c, err)
	}
	if stats := rdb.Info(ctx, "commandstats").Val(); strings.Contains(stats, "cmdstat_hgetall") {
		t.Errorf("the claim read the chunks:\n%s", stats)
	}
}

// TestRedisBriefOfMixedRecord: a batch with outcomes recorded by a
// replica of a release before the tally (a rolling upgrade), and others
// by this one, which kept lastAt, is briefed from its chunks: from lastAt
// its latest outcome's time was the latest of those this release
// recorded (a listing's durationSeconds short for good), as its Tally is
// added up from its chunks.
func TestRedisBriefOfMixedRecord(t *testing.T) {
	s, rdb := storeAndClient(t)
	ctx := context.Background()
	ref := store.RefOf("mixed")
	if _, err := s.Claim(ctx, store.Batch{Ref: ref, Digest: "d", TradeIDs: []string{"T1", "T2"}, ChunkOffsets: []int{0, 1}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, ref, "d", 1, store.Chunk{Index: 0, State: store.ChunkDead, Reason: "gone", ArrivedAt: time.Unix(1e9, 5).UTC()}); err != nil {
		t.Fatal(err)
	}
	// Chunk 1 as the put script of the earlier release recorded it: its
	// entry, its delivery, done and dead counted, no tally.
	later := time.Unix(1e9+7, 0).UTC()
	entry, err := json.Marshal(store.Chunk{Index: 1, State: store.ChunkDead, Reason: "gone too", ArrivedAt: later})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, "pricefn:b:{_/mixed}:a1:chunks", "1", "d"+string(entry))
		p.HSet(ctx, "pricefn:b:{_/mixed}:a1:deliv", "1", 1)
		p.HIncrBy(ctx, "pricefn:b:{_/mixed}:meta", "dead", 1)
		p.HIncrBy(ctx, "pricefn:b:{_/mixed}:meta", "done", 1)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	b, err := s.Brief(ctx, ref)
	if err != nil || b.Done != 2 || b.Dead != 2 || !b.LastAt.Equal(later) || b.State() != store.StateFailed {
		t.Errorf("brief %+v %v, want 2 chunks done, dead, the last at %s", b, err, later)
	}
}

// TestRedisExpireReadsNoTradeIDs: the deadline's end of a batch counts
// the trades of its chunks without an outcome from the offsets, read
// once, not from each chunk's trade ids, decoded in the script: with
// 100 chunks of 10,000 trades missing, decoding 1,000,000 ids blocked
// Redis, every replica's calls with it, for 0.3 s.
func TestRedisExpireReadsNoTradeIDs(t *testing.T) {
	s, rdb := storeAndClient(t)
	ctx := context.Background()
	const n = 40
	b := store.Batch{Ref: store.RefOf("ended"), Digest: "d", Deadline: time.Now().Add(time.Hour).Truncate(time.Millisecond)}
	for i := range 3 * n {
		b.TradeIDs = append(b.TradeIDs, fmt.Sprintf("T%d", i))
		if i%3 == 0 {
			b.ChunkOffsets = append(b.ChunkOffsets, i, i) // a scenario chunk, then one of 3 trades
		}
	}
	if _, err := s.Claim(ctx, b); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, b.Ref, "d", 1, store.Chunk{Index: 1, State: store.ChunkDead, Reason: "gone", ArrivedAt: time.Unix(1e9, 0).UTC()}); err != nil {
		t.Fatal(err)
	}
	if err := rdb.ConfigResetStat(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Expire(ctx, b.Ref, 1, b.Deadline.Add(time.Second), "deadline passed"); err != nil {
		t.Fatal(err)
	}
	stats := rdb.Info(ctx, "commandstats").Val()
	for line := range strings.SplitSeq(stats, "\n") {
		var calls int
		if rest, ok := strings.CutPrefix(line, "cmdstat_hget:calls="); ok {
			fmt.Sscanf(rest, "%d", &calls)
		}
		if calls >= n {
			t.Errorf("the expiry read each chunk's trade ids: %s", line)
		}
	}
	got, err := s.Tally(ctx, b.Ref)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := s.Summary(ctx, b.Ref)
	if err != nil {
		t.Fatal(err)
	}
	if want := sum.TallyOf(); got.Missing != 3*n || got.ScenarioChunksDone != n || got.ChunksDead != 2*n || got.Missing != want.Missing ||
		got.ScenarioChunksDone != want.ScenarioChunksDone || len(got.FirstDead) != 2*n || got.FirstDead[2].Trades != 0 || got.FirstDead[3].Trades != 3 {
		t.Errorf("tally %+v, want %d trades missing, %d scenario chunks done, as the summary's %+v", got, 3*n, n, want)
	}
}

// TestRedisPutDecodesNoTradeIDs: the tally of a priced chunk tells a
// scenario chunk from the length of its entry of trade ids, not by
// reading and decoding them in the put script: for a chunk of 10,000
// trades that took 2.3 ms of Redis, whose every client waits meanwhile,
// for each outcome (0.035 ms before the tally). A dead chunk's trades
// are counted from the offsets; scenario chunks and the last right.
func TestRedisPutDecodesNoTradeIDs(t *testing.T) {
	s, rdb := storeAndClient(t)
	ctx := context.Background()
	const n = 50_000
	b := store.Batch{Ref: store.RefOf("big"), Digest: "d", ChunkOffsets: []int{0, 0, n, n, n + 2}}
	for i := range n + 7 {
		b.TradeIDs = append(b.TradeIDs, fmt.Sprintf("TRADE-%08d", i))
	}
	if _, err := s.Claim(ctx, b); err != nil {
		t.Fatal(err)
	}
	if err := rdb.ConfigResetStat(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	for i, trades := range []int{0, n, 0, 2} {
		if _, err := s.Put(ctx, b.Ref, "d", 1, store.Chunk{Index: i, State: store.ChunkPriced, Trades: trades, ArrivedAt: time.Unix(1e9, 0).UTC()}); err != nil {
			t.Fatal(err)
		}
	}
	var usec int
	for line := range strings.SplitSeq(rdb.Info(ctx, "commandstats").Val(), "\n") {
		if rest, ok := strings.CutPrefix(line, "cmdstat_evalsha:"); ok {
			fmt.Sscanf(rest[strings.Index(rest, "usec=")+5:], "%d", &usec)
		}
	}
	// Decoded, the chunk of 50,000 ids took some 10 ms of the four
	// outcomes; its entry's length, the four 0.2 ms.
	if usec > 2000 {
		t.Errorf("four outcomes took %d µs of Redis's time, want under 2 ms: the trade ids read", usec)
	}
	if _, err := s.Put(ctx, b.Ref, "d", 1, store.Chunk{Index: 4, State: store.ChunkDead, Reason: "gone", ArrivedAt: time.Unix(1e9, 0).UTC()}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Tally(ctx, b.Ref)
	if err != nil || got.Priced != n+2 || got.Missing != 5 || got.ScenarioChunksDone != 2 || got.ChunksDead != 1 || got.FirstDead[0].Trades != 5 {
		t.Errorf("tally %+v %v, want %d trades priced, 5 missing, 2 scenario chunks done", got, err, n+2)
	}
}
