package launch_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pricefn/pricefn/config"
	"github.com/pricefn/pricefn/functions/launch"
	"github.com/pricefn/pricefn/store"
	"github.com/pricefn/pricefn/store/redisstore/redistest"
)

// TestOpenStoreKeepsTheConfiguredAges: a store opened from a function's
// configuration keeps an unfinished batch for its --max-age. Ingress, which
// makes the claims, opened its store without them: a batch claimed in Redis
// expired after the default 24 h, whatever --max-age said.
func TestOpenStoreKeepsTheConfiguredAges(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	st, closeStore, err := launch.OpenStore(ctx, config.Store{URL: srv.URL, Retain: 10 * time.Minute, MaxAge: 2 * time.Hour, TenantMaxRetained: 10})
	if err != nil {
		t.Fatal(err)
	}
	defer closeStore()
	if _, err := st.Claim(ctx, store.Batch{Ref: store.Ref{Tenant: "t", ID: "aged"}, Digest: "d", TradeIDs: []string{"a"}, ChunkOffsets: []int{0},
		SubmittedAt: time.Now().UTC(), Deadline: time.Now().Add(time.Minute).UTC()}); err != nil {
		t.Fatal(err)
	}
	opt, err := redis.ParseURL(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	keys, err := rdb.Keys(ctx, "*aged*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("the claimed batch's keys: %v %v", keys, err)
	}
	for _, k := range keys {
		if !strings.HasSuffix(k, ":meta") {
			continue
		}
		ttl, err := rdb.PTTL(ctx, k).Result()
		// The configured max age past the batch's deadline, a minute away.
		if err != nil || ttl > 2*time.Hour+time.Minute || ttl < 2*time.Hour {
			t.Errorf("%s expires in %v (%v), want the configured max age, 2h, past its deadline a minute away", k, ttl, err)
		}
		return
	}
	t.Fatalf("no meta key among %v", keys)
}
