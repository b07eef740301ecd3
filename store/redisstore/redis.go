// Package redisstore is a store.Store in Redis, shared by every ingress and
// aggregator replica: chunk outcomes are recorded by Lua scripts, so that
// first-outcome-wins, the digest check and the claim to announce a batch's
// end are each one atomic step however many replicas race. Finished batches
// expire Retain after they finish, unfinished ones MaxAge past their
// deadline (their claim, without one), and a tenant's oldest finished batches go early when it holds
// more than MaxRetained; changes are published on one channel, so that a replica's long
// polls wake when another replica records a chunk.
package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	neturl "net/url"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pricefn/pricefn/store"
)

// Store is a store.Store in Redis. Close it when done.
type Store struct {
	rdb *redis.Client
	opt store.Options

	watches store.Watchers
	sub     *redis.PubSub
	done    chan struct{}
}

var _ store.Store = (*Store)(nil)

// changedChannel is where the scripts publish the member name ("tenant/id")
// of each batch that changed.
const changedChannel = "pricefn:changed"

// deadlinesKey is the sorted set of unfinished batches by deadline.
const deadlinesKey = "pricefn:deadlines"

// Open connects to the Redis at url (redis://[user:password@]host:port/db)
// and checks that it answers. The client's time limits are this package's
// defaults (DialTimeout, ReadTimeout, WriteTimeout, MaxRetries) unless
// the URL's query sets them (?read_timeout=5s&max_retries=3, as go-redis's
// ParseURL reads them), and a call's context deadline bounds it too.
func Open(ctx context.Context, url string, opt store.Options) (*Store, error) {
	o, err := redis.ParseURL(url)
	if err != nil {
		// net/url's errors quote the URL, and with it any password: a
		// startup error goes to the pod's log and events.
		var ue *neturl.Error
		if errors.As(err, &ue) {
			// Its reason quotes the URL's bytes too ("invalid URL
			// escape "%et""): three of a password's.
			err = errors.New("the store URL does not parse (not shown: it may hold a password; a '%' in one must be written %25)")
		}
		return nil, fmt.Errorf("redisstore: %w", err)
	}
	if err := applyDefaults(o, url); err != nil {
		return nil, fmt.Errorf("redisstore: %w", err)
	}
	rdb := redis.NewClient(o)
	if err := rdb.Ping(ctx).Err(); err != nil {
		rdb.Close()
		return nil, fmt.Errorf("redisstore: %s: %w", o.Addr, err)
	}
	s := &Store{rdb: rdb, opt: opt.WithDefaults(), done: make(chan struct{})}
	s.sub = rdb.Subscribe(context.Background(), changedChannel)
	if _, err := s.sub.Receive(ctx); err != nil { // the subscription confirmation
		s.sub.Close()
		rdb.Close()
		return nil, fmt.Errorf("redisstore: subscribe: %w", err)
	}
	go s.fanOut()
	return s, nil
}

// Close stops the subscription and closes the connections.
func (s *Store) Close() error {
	err := s.sub.Close()
	<-s.done
	return errors.Join(err, s.rdb.Close())
}

// fanOut wakes the local waiters of each batch another replica changed.
// The changes published while the subscription was down (its connection
// lost, and made again) never come: when it is back, every waiter is
// woken to read its batch again.
func (s *Store) fanOut() {
	defer close(s.done)
	for msg := range s.sub.ChannelWithSubscriptions() {
		switch m := msg.(type) {
		case *redis.Message:
			s.watches.Notify(m.Payload)
		case *redis.Subscription: // Open took the first: this one follows a reconnection
			s.watches.NotifyAll()
		}
	}
	// The subscription ended: wake everyone, so that no wait outlives it.
	s.watches.NotifyAll()
}

// member is a batch's name in the deadline index and change messages.
func member(ref store.Ref) string {
	if ref.Tenant == "" {
		ref.Tenant = store.DefaultTenant
	}
	return ref.String()
}

// The keys of a batch are batchKey + member + "}" and a suffix; its meta
// hash's suffix is metaSuffix.
const (
	batchKey   = "pricefn:b:{"
	metaSuffix = ":meta"
	// pendingSuffix is the pending list's (tallyLua): the claim script
	// deletes it by that name.
	pendingSuffix = ":pending"
)

// prefix is the start of every key of a batch.
func prefix(ref store.Ref) string { return batchKey + member(ref) + "}" }

// keys returns the keys the scripts take for attempt of ref.
func keys(ref store.Ref, attempt int) []string {
	p := prefix(ref)
	a := p + ":a" + strconv.Itoa(attempt)
	open, trades := tenantKeys(ref)
	return []string{p + metaSuffix, a + ":chunks", a + ":results", deadlinesKey, a + ":deliv", a + ":ids", open, trades, p + pendingSuffix, a + ":arrivals"}
}

// tenantKeys are the keys of ref's tenant's batches in flight: a sorted
// set by claim time, and a hash of their trade counts.
func tenantKeys(ref store.Ref) (open, trades string) {
	t := "pricefn:t:{" + member(store.Ref{Tenant: ref.Tenant}) + "}"
	return t + ":open", t + ":trades"
}

func ms(d time.Duration) int64 { return d.Milliseconds() }

// outcome turns a script's answer into an Update or an error.
func outcome(ref store.Ref, attempt int, res string, err error) (store.Update, error) {
	if err != nil {
		return store.Update{}, fmt.Errorf("redisstore: %s: %w", ref, err)
	}
	var u store.Update
	if r, by, ok := strings.Cut(res, ":announce:"); ok {
		ms, perr := strconv.ParseInt(by, 10, 64)
		if perr != nil {
			return u, fmt.Errorf("redisstore: %s: unexpected script answer %q", ref, res)
		}
		res, u.Announce, u.AnnounceBy = r, true, time.UnixMilli(ms).UTC()
	}
	switch res {
	case "ok":
	case "duplicate":
		u.Duplicate = true
	case "late":
		u.Late = true
	case "notfound":
		return u, fmt.Errorf("%w: %s attempt %d", store.ErrNotFound, ref, attempt)
	case "conflict":
		return u, fmt.Errorf("%w: %s", store.ErrConflict, ref)
	case "stale":
		return u, fmt.Errorf("%w: %s attempt %d", store.ErrStale, ref, attempt)
	case "badchunk":
		return u, fmt.Errorf("%w: batch %s", store.ErrBadChunk, ref)
	default:
		return u, fmt.Errorf("redisstore: %s: unexpected script answer %q", ref, res)
	}
	return u, nil
}

// chunkTrades is the ids hash's value for one chunk.
type chunkTrades struct {
	IDs []string `json:"ids"`
	// Offset is the index of the chunk's first trade (Layout); a claim of
	// an earlier release wrote none.
	Offset *int `json:"offset,omitempty"`
}

// Claim implements store.Store.
func (s *Store) Claim(ctx context.Context, b store.Batch) (store.Claim, error) {
	if err := b.Check(); err != nil {
		return store.Claim{}, err
	}
	offsets, _ := json.Marshal(b.ChunkOffsets)
	var deadline int64
	if !b.Deadline.IsZero() {
		deadline = b.Deadline.UnixMilli()
	}
	k := keys(b.Ref, 0)
	fields, err := chunkTradeFields(b)
	if err != nil {
		return store.Claim{}, err
	}
	// An unfinished batch is kept MaxAge past its deadline (past its
	// claim, without one): a safety net behind the deadline, which ends
	// it, not an expiry that forgets it while it runs. (The claim script
	// reckons the same from MaxAge, which also bounds the claims it
	// looks at to forget a tenant's batches in flight.)
	now := time.Now()
	maxAge := s.opt.MaxAge + max(b.Deadline.Sub(now), 0)
	args := append([]any{b.Digest, len(b.TradeIDs), offsets, b.SubmittedAt.Format(time.RFC3339Nano), deadline, b.ResultsURL,
		ms(s.opt.MaxAge), member(b.Ref), len(b.ChunkOffsets), prefix(b.Ref), ms(s.opt.Retain),
		b.Limits.MaxOpen, b.Limits.MaxTrades, now.UnixMilli(), store.MaxRecent, b.TraceParent,
		s.opt.MaxRetained, batchKey, forgetScan, scenarioChunks(b)}, fields...)
	res, err := claimScript.Run(ctx, s.rdb, []string{k[0], deadlinesKey, k[6], k[7], recentKey(b.Ref), heldKey(b.Ref)}, args...).Slice()
	if err != nil {
		return store.Claim{}, fmt.Errorf("redisstore: claim %s: %w", b.Ref, err)
	}
	what, _ := res[0].(string)
	if what == "limit" {
		kind, _ := res[1].(string)
		n, _ := res[2].(int64)
		if kind == "open" {
			return store.Claim{}, store.OpenLimitError(b, int(n))
		}
		return store.Claim{}, store.TradesLimitError(b, int(n))
	}
	attempt, _ := res[1].(int64)
	c := store.Claim{Attempt: int(attempt)}
	switch what {
	case "conflict":
		return c, fmt.Errorf("%w: %s", store.ErrConflict, b.Ref)
	case "announcing":
		return c, fmt.Errorf("%w: %s attempt %d", store.ErrAnnouncing, b.Ref, c.Attempt)
	case "exists":
		// Its tally, not its Summary: a client submitting again a batch
		// of 1,000,000 chunks had every chunk's entry read for each.
		sum, err := s.Tally(ctx, b.Ref)
		if err != nil {
			return c, err
		}
		c.State = sum.State()
		if sum.SentAt.IsZero() && len(fields) > 0 {
			// Not sent in full, its chunks to go again (ingress.unsent):
			// a claim of an earlier release, which wrote the trades
			// apart, may have lost them (its ingress stopped between).
			if n, _ := s.rdb.Exists(ctx, keys(b.Ref, c.Attempt)[5]).Result(); n == 0 {
				err := repairTradesScript.Run(ctx, s.rdb, []string{k[0], keys(b.Ref, c.Attempt)[5]}, append([]any{b.Digest, c.Attempt, ms(maxAge)}, fields...)...).Err()
				if err != nil && !errors.Is(err, redis.Nil) {
					return c, fmt.Errorf("redisstore: %s: recording trades: %w", b.Ref, err)
				}
			}
		}
		return c, nil
	}
	c.New, c.State = true, store.StatePending
	return c, nil
}

// scenarioChunks counts batch b's chunks that hold no trades.
func scenarioChunks(b store.Batch) int {
	sum := store.Summary{Header: store.Header{Trades: len(b.TradeIDs)}, ChunkOffsets: b.ChunkOffsets}
	n := 0
	for i := range b.ChunkOffsets {
		if lo, hi := sum.Bounds(i); lo == hi {
			n++
		}
	}
	return n
}

// chunkTradeFields returns the ids hash of batch b's trades: chunk index,
// then its ids (chunkTrades), for each chunk.
func chunkTradeFields(b store.Batch) ([]any, error) {
	fields := make([]any, 0, 2*len(b.ChunkOffsets))
	sum := store.Summary{Header: store.Header{Trades: len(b.TradeIDs)}, ChunkOffsets: b.ChunkOffsets}
	for i := range b.ChunkOffsets {
		lo, hi := sum.Bounds(i)
		data, err := json.Marshal(chunkTrades{IDs: b.TradeIDs[lo:hi], Offset: &lo})
		if err != nil {
			return nil, fmt.Errorf("redisstore: %s: %w", b.Ref, err)
		}
		fields = append(fields, i, data)
	}
	return fields, nil
}

// run runs one of the scripts that take the six batch keys.
func (s *Store) run(ctx context.Context, sc *redis.Script, ref store.Ref, digest string, attempt int, args ...any) (store.Update, error) {
	return s.runAt(ctx, time.Now(), sc, ref, digest, attempt, args...)
}

// runAt is run at now, the time a script's announcement claim dates from.
// The script's own arguments past its first four follow the lease.
func (s *Store) runAt(ctx context.Context, now time.Time, sc *redis.Script, ref store.Ref, digest string, attempt int, args ...any) (store.Update, error) {
	argv := make([]any, 10, 10+max(len(args)-4, 0)) // digest, attempt, four of the script's own, member, retain, now, lease, the script's others
	argv[0], argv[1] = digest, attempt
	for i := 2; i < 6; i++ {
		argv[i] = ""
	}
	copy(argv[2:6], args)
	argv[6], argv[7] = member(ref), ms(s.opt.Retain)
	argv[8], argv[9] = now.UnixMilli(), ms(store.AnnounceLease)
	if len(args) > 4 {
		argv = append(argv, args[4:]...)
	}
	res, err := sc.Run(ctx, s.rdb, keys(ref, attempt), argv...).Text()
	return outcome(ref, attempt, res, err)
}

// Accept implements store.Store.
func (s *Store) Accept(ctx context.Context, ref store.Ref, digest string, attempt int, at time.Time) (store.Update, error) {
	return s.run(ctx, acceptScript, ref, digest, attempt, at.Format(time.RFC3339Nano))
}

// Put implements store.Store.
func (s *Store) Put(ctx context.Context, ref store.Ref, digest string, attempt int, c store.Chunk) (store.Update, error) {
	data, err := json.Marshal(c)
	if err != nil {
		return store.Update{}, fmt.Errorf("redisstore: %s chunk %d: %w", ref, c.Index, err)
	}
	letter := "p"
	if c.State == store.ChunkDead {
		letter = "d"
	}
	sums := ""
	if c.State == store.ChunkPriced && (c.Partials != nil || c.Totals != nil) {
		sums = "1"
	}
	return s.run(ctx, putScript, ref, digest, attempt, c.Index, letter+string(data), c.Results, lastAt(c.ArrivedAt),
		c.Trades-c.Failed, c.Failed, int64(c.PricingTime()), sums, store.MaxFirstDead)
}

// Expire implements store.Store.
func (s *Store) Expire(ctx context.Context, ref store.Ref, attempt int, now time.Time, reason string) (store.Update, error) {
	r, _ := json.Marshal(reason)
	return s.runAt(ctx, now, expireScript, ref, "", attempt, now.UnixMilli(), r, now.UTC().Format(time.RFC3339Nano), lastAt(now), store.MaxFirstDead)
}

// lastAt is t as the meta hash's lastAt keeps it: Unix ns in 20 digits,
// which Lua compares as strings (its numbers hold 53 bits); "" for none.
func lastAt(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return fmt.Sprintf("%020d", t.UnixNano())
}

// Sent implements store.Store.
func (s *Store) Sent(ctx context.Context, ref store.Ref, digest string, attempt int, at time.Time) error {
	_, err := s.run(ctx, sentScript, ref, digest, attempt, at.UTC().Format(time.RFC3339Nano))
	return err
}

// Pin implements store.Store: Redis forgets a batch after its retention,
// or when its tenant holds more than Options.MaxRetained batches and it is
// among the oldest, not for room, and it does not spare one being read.
func (s *Store) Pin(ctx context.Context, ref store.Ref) (unpin func()) { return func() {} }

// Sending implements store.Store.
func (s *Store) Sending(ctx context.Context, ref store.Ref, digest string, attempt int, at time.Time) error {
	_, err := s.run(ctx, sendingScript, ref, digest, attempt, strconv.FormatInt(at.UnixMilli(), 10))
	return err
}

// Release implements store.Store.
func (s *Store) Release(ctx context.Context, ref store.Ref, attempt int, by time.Time) error {
	_, err := s.run(ctx, releaseScript, ref, "", attempt, strconv.FormatInt(by.UnixMilli(), 10))
	return err
}

// Announced implements store.Store.
func (s *Store) Announced(ctx context.Context, ref store.Ref, attempt int, at time.Time) error {
	_, err := s.run(ctx, announcedScript, ref, "", attempt, at.UTC().Format(time.RFC3339Nano))
	return err
}

// overdueOrphans bounds the deadline-index entries of forgotten batches
// one call of Overdue removes (overdueScript).
const overdueOrphans = 1000

// Overdue implements store.Store. It removes the index entries of batches
// forgotten since their claim (overdueScript), which would otherwise fill
// its answers for good.
func (s *Store) Overdue(ctx context.Context, now time.Time, limit int) ([]store.Ref, error) {
	if limit <= 0 {
		return nil, nil
	}
	ms, err := overdueScript.Run(ctx, s.rdb, []string{deadlinesKey},
		now.UnixMilli(), limit, batchKey, "}"+metaSuffix, overdueOrphans).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("redisstore: overdue batches: %w", err)
	}
	out := make([]store.Ref, 0, len(ms))
	for _, m := range ms {
		t, id, ok := strings.Cut(m, "/")
		if !ok {
			continue
		}
		out = append(out, store.Ref{Tenant: t, ID: id})
	}
	return out, nil
}

// heldKey is the key of every batch ref's tenant holds, by claim time:
// the batches its claims count against Options.MaxRetained.
func heldKey(ref store.Ref) string {
	return "pricefn:t:{" + member(store.Ref{Tenant: ref.Tenant}) + "}:held"
}

// forgetScan bounds the held batches one claim looks at to forget
// (claimScript): past the bound, its tenant's oldest are unfinished.
const forgetScan = 1000

// recentKey is the key of ref's tenant's recent batches.
func recentKey(ref store.Ref) string {
	return "pricefn:t:{" + member(store.Ref{Tenant: ref.Tenant}) + "}:recent"
}

// Recent implements store.Store.
func (s *Store) Recent(ctx context.Context, tenant string, limit int) ([]store.Ref, error) {
	limit = min(limit, store.MaxRecent)
	if limit <= 0 {
		return nil, nil
	}
	ms, err := s.rdb.ZRevRange(ctx, recentKey(store.Ref{Tenant: tenant}), 0, int64(limit-1)).Result()
	if err != nil {
		return nil, fmt.Errorf("redisstore: recent batches of %s: %w", tenant, err)
	}
	out := make([]store.Ref, 0, len(ms))
	for _, m := range ms {
		if t, id, ok := strings.Cut(m, "/"); ok {
			out = append(out, store.Ref{Tenant: t, ID: id})
		}
	}
	return out, nil
}

// Summary implements store.Store.
func (s *Store) Summary(ctx context.Context, ref store.Ref) (*store.Summary, error) {
	for {
		sum, err := s.summary(ctx, ref)
		if !errors.Is(err, errReplaced) {
			return sum, err
		}
	}
}

// errReplaced is summary's error when the batch was claimed again (its
// attempt replaced, or the id reused) between its read of the meta hash
// and its read of the attempt's chunks, whose keys the claim deleted;
// and tally's, too, when another read's fold trimmed the pending list
// between two pages of it (fold): either reads again.
var errReplaced = errors.New("redisstore: batch replaced while read")

func (s *Store) summary(ctx context.Context, ref store.Ref) (*store.Summary, error) {
	k0 := keys(ref, 0)[0]
	meta, err := s.rdb.HGetAll(ctx, k0).Result()
	if err != nil {
		return nil, fmt.Errorf("redisstore: %s: %w", ref, err)
	}
	if len(meta) == 0 {
		return nil, fmt.Errorf("%w: %s", store.ErrNotFound, ref)
	}
	if ref.Tenant == "" {
		ref.Tenant = store.DefaultTenant
	}
	sum := &store.Summary{Header: store.Header{Ref: ref, Digest: meta["digest"], ResultsURL: meta["resultsUrl"], TraceParent: meta["traceparent"], Announced: meta["announced"] == "1"}}
	ints := map[string]*int{"attempt": &sum.Attempt, "trades": &sum.Trades, "duplicates": &sum.Duplicates, "late": &sum.Late}
	for name, p := range ints {
		if *p, err = strconv.Atoi(meta[name]); err != nil {
			return nil, fmt.Errorf("redisstore: %s: field %s: %w", ref, name, err)
		}
	}
	if err := json.Unmarshal([]byte(meta["offsets"]), &sum.ChunkOffsets); err != nil {
		return nil, fmt.Errorf("redisstore: %s: offsets: %w", ref, err)
	}
	sum.SubmittedAt, _ = time.Parse(time.RFC3339Nano, meta["submittedAt"])
	if v := meta["sentAt"]; v != "" {
		sum.SentAt, _ = time.Parse(time.RFC3339Nano, v)
	}
	if ms, _ := strconv.ParseInt(meta["sendingAt"], 10, 64); ms > 0 {
		sum.SendingAt = time.UnixMilli(ms).UTC()
	}
	if v := meta["announcedAt"]; v != "" {
		sum.AnnouncedAt, _ = time.Parse(time.RFC3339Nano, v)
	}
	if by, _ := strconv.ParseInt(meta["announceBy"], 10, 64); by > 0 {
		sum.AnnounceBy = time.UnixMilli(by).UTC()
	}
	if v := meta["acceptedAt"]; v != "" {
		sum.AcceptedAt, _ = time.Parse(time.RFC3339Nano, v)
	}
	if d, _ := strconv.ParseInt(meta["deadline"], 10, 64); d > 0 {
		sum.Deadline = time.UnixMilli(d).UTC()
	}
	k := keys(ref, sum.Attempt)
	var chunks, deliv *redis.MapStringStringCmd
	var now *redis.SliceCmd
	// In one transaction with the meta hash's attempt and digest, checked
	// against those read above: a claim in between deleted the chunks
	// read, and the attempt read would show none of its outcomes.
	if _, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		now = p.HMGet(ctx, k0, "digest", "attempt")
		chunks = p.HGetAll(ctx, k[1])
		deliv = p.HGetAll(ctx, k[4])
		return nil
	}); err != nil {
		return nil, fmt.Errorf("redisstore: %s: chunks: %w", ref, err)
	}
	if d, a := now.Val()[0], now.Val()[1]; d != meta["digest"] || a != meta["attempt"] {
		return nil, errReplaced
	}
	sum.Chunks = make([]store.Chunk, len(sum.ChunkOffsets))
	for i := range sum.Chunks {
		sum.Chunks[i].Index = i
	}
	for f, v := range chunks.Val() {
		i, err := strconv.Atoi(f)
		if err != nil || i < 0 || i >= len(sum.Chunks) || len(v) < 2 {
			return nil, fmt.Errorf("redisstore: %s: bad chunk entry %q", ref, f)
		}
		if err := json.Unmarshal([]byte(v[1:]), &sum.Chunks[i]); err != nil {
			return nil, fmt.Errorf("redisstore: %s chunk %d: %w", ref, i, err)
		}
		sum.Chunks[i].Deliveries, _ = strconv.Atoi(deliv.Val()[f])
	}
	return sum, nil
}

// Tally implements store.Store: the meta hash's fields, the tally the
// scripts keep there (tallyLua) with the sums of the chunks pending
// added (fold), and the entries of the first dead chunks, for their
// reasons. A batch claimed by a release that kept no tally, or with
// outcomes recorded by one (a rolling upgrade), is added up from its
// Summary.
func (s *Store) Tally(ctx context.Context, ref store.Ref) (*store.Tally, error) {
	for {
		t, err := s.tally(ctx, ref)
		if !errors.Is(err, errReplaced) {
			return t, err
		}
	}
}

// hasField reports whether the hash fields f read hold name.
func hasField(f map[string]string, name string) bool {
	_, ok := f[name]
	return ok
}

// atoi is s as a number, 0 for none.
func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// tallyFields are the meta hash's fields Tally reads.
var tallyFields = []string{"digest", "attempt", "trades", "chunks", "resultsUrl", "traceparent", "submittedAt", "deadline", "acceptedAt",
	"sentAt", "sendingAt", "announced", "announceBy", "announcedAt", "duplicates", "late", "done", "dead", "scenario", "scenarioDone",
	"priced", "failed", "missing", "pricing", "firstAt", "lastAt", "firstDead", "totals", "sums", "tallied", "outcomes", "folded",
	"listed", "skipped"}

func (s *Store) tally(ctx context.Context, ref store.Ref) (*store.Tally, error) {
	k := keys(ref, 0)
	k0 := k[0]
	// In one transaction: the pending chunks are those whose outcomes the
	// counts read hold and the sums do not, their first page read here
	// (fold reads the others).
	var get *redis.SliceCmd
	var list *redis.StringSliceCmd
	var length *redis.IntCmd
	if _, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		get = p.HMGet(ctx, k0, tallyFields...)
		list = p.LRange(ctx, k[8], 0, foldPage-1)
		length = p.LLen(ctx, k[8])
		return nil
	}); err != nil {
		return nil, fmt.Errorf("redisstore: %s: %w", ref, err)
	}
	vals, pending := get.Val(), list.Val()
	f := make(map[string]string, len(tallyFields))
	for i, name := range tallyFields {
		if v, ok := vals[i].(string); ok {
			f[name] = v
		}
	}
	if _, ok := f["digest"]; !ok {
		return nil, fmt.Errorf("%w: %s", store.ErrNotFound, ref)
	}
	// The chunks listed (tallyLua) and not folded in yet must all be in
	// the list: fewer, and the list went before the meta hash with sums
	// not folded in (a replica of a release before the pending list
	// recorded the batch's end and kept the list for the unfinished
	// batch's life, or Redis evicted the list alone), when the batch is
	// added up from its chunks, too.
	unfolded := atoi(f["listed"]) - (atoi(f["folded"]) - atoi(f["skipped"]))
	if tallied := atoi(f["tallied"]) + atoi(f["outcomes"]); !hasField(f, "scenario") || tallied != atoi(f["done"]) || unfolded > int(length.Val()) {
		sum, err := s.Summary(ctx, ref)
		if err != nil {
			return nil, err
		}
		return sum.TallyOf(), nil
	}
	if ref.Tenant == "" {
		ref.Tenant = store.DefaultTenant
	}
	t := &store.Tally{Header: store.Header{Ref: ref, Digest: f["digest"], ResultsURL: f["resultsUrl"], TraceParent: f["traceparent"], Announced: f["announced"] == "1"}, Totals: store.Totals{}}
	ints := []struct {
		name string
		p    *int
	}{{"attempt", &t.Attempt}, {"trades", &t.Trades}, {"chunks", &t.Chunks}, {"duplicates", &t.Duplicates}, {"late", &t.Late},
		{"done", &t.ChunksDone}, {"dead", &t.ChunksDead}, {"scenario", &t.ScenarioChunks}, {"scenarioDone", &t.ScenarioChunksDone},
		{"priced", &t.Priced}, {"failed", &t.Failed}, {"missing", &t.Missing}}
	var err error
	for _, n := range ints {
		if v, ok := f[n.name]; ok {
			if *n.p, err = strconv.Atoi(v); err != nil {
				return nil, fmt.Errorf("redisstore: %s: field %s: %w", ref, n.name, err)
			}
		}
	}
	ns, _ := strconv.ParseInt(f["pricing"], 10, 64)
	t.Pricing = time.Duration(ns)
	stamp := func(name string) time.Time {
		v, _ := time.Parse(time.RFC3339Nano, f[name])
		return v
	}
	unixMs := func(name string) time.Time {
		if v, _ := strconv.ParseInt(f[name], 10, 64); v > 0 {
			return time.UnixMilli(v).UTC()
		}
		return time.Time{}
	}
	unixNs := func(name string) time.Time {
		if v, _ := strconv.ParseInt(f[name], 10, 64); v != 0 {
			return time.Unix(0, v).UTC()
		}
		return time.Time{}
	}
	t.SubmittedAt, t.AcceptedAt, t.SentAt, t.AnnouncedAt = stamp("submittedAt"), stamp("acceptedAt"), stamp("sentAt"), stamp("announcedAt")
	t.SendingAt, t.AnnounceBy, t.Deadline = unixMs("sendingAt"), unixMs("announceBy"), unixMs("deadline")
	t.FirstAt, t.LastAt = unixNs("firstAt"), unixNs("lastAt")
	// The sums folded in (foldScript) and those of the chunks pending,
	// then any that a put of an earlier release added to the totals (a
	// rolling upgrade), which it decodes and encodes itself.
	if t.Totals, err = decodeTotals(f["sums"]); err != nil {
		return nil, fmt.Errorf("redisstore: %s: sums: %w", ref, err)
	}
	if n := int(length.Val()); n > 0 {
		if err := s.fold(ctx, ref, f, t.Totals, pending, n); err != nil {
			return nil, err
		}
	}
	earlier, err := decodeTotals(f["totals"])
	if err != nil {
		return nil, fmt.Errorf("redisstore: %s: totals: %w", ref, err)
	}
	t.Totals.Merge(earlier)
	if v := f["firstDead"]; v != "" {
		var idx []string
		for d := range strings.SplitSeq(v, ",") {
			i, n, _ := strings.Cut(d, ":")
			trades, err := strconv.Atoi(n)
			if err != nil {
				return nil, fmt.Errorf("redisstore: %s: firstDead: %w", ref, err)
			}
			idx = append(idx, i)
			t.FirstDead = append(t.FirstDead, store.Chunk{State: store.ChunkDead, Trades: trades})
		}
		dead, err := s.chunkEntries(ctx, ref, keys(ref, t.Attempt), f, idx, "dead")
		if err != nil {
			return nil, err
		}
		for i, c := range dead {
			t.FirstDead[i].Index, t.FirstDead[i].Reason = c.Index, c.Reason
		}
	}
	return t, nil
}

// fold adds the sums of the pending chunks (tallyLua), the n entries of
// the pending list the meta hash's fields f were read with (the first
// page of them, first), to the sums t that f holds folded in, and folds
// them in for the next read (foldScript) a page at a time: a read ended
// before its last page (its client gone, its process killed) leaves the
// pages it added folded, and the next read goes on from there, where one
// that saved nothing left every read of a batch too long to add up in
// one request to start again from the first page, never answered. Added
// up here, where a put only lists its chunk, a put's Redis time does not
// grow with its sums.
func (s *Store) fold(ctx context.Context, ref store.Ref, f map[string]string, t store.Totals, first []string, n int) error {
	k := keys(ref, atoi(f["attempt"]))
	folded := atoi(f["folded"])
	// A page of the list and of the chunks' entries a command: the first
	// read of a batch of 100,000 chunks, none read before, blocks Redis
	// for one page at a time (the whole list read at once, 11 ms; 1,000,000
	// chunks, 110 ms).
	for done, pending := 0, first; ; {
		own, err := s.addPage(ctx, ref, k, f, t, pending)
		if err != nil {
			return err
		}
		sums, err := encodeTotals(t)
		if err != nil {
			return fmt.Errorf("redisstore: %s: sums: %w", ref, err)
		}
		saved, err := foldScript.Run(ctx, s.rdb, []string{k[0], k[8]}, f["digest"], f["attempt"], folded, sums, len(pending),
			f["submittedAt"], len(pending)-own).Int()
		if err != nil {
			return fmt.Errorf("redisstore: %s: folding sums: %w", ref, err)
		}
		done += len(pending)
		if saved == 0 {
			// Another read's fold saved first. This read's totals stand
			// once it has added every chunk it counts; before, it starts
			// again from the sums saved.
			if done >= n {
				return nil
			}
			return errReplaced
		}
		if folded += len(pending); done >= n {
			return nil
		}
		// The pages folded are gone from the list's head: the next is
		// its first, unless another read's fold saved since (folded is
		// not this read's), when the read starts again.
		var now *redis.SliceCmd
		var list *redis.StringSliceCmd
		if _, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			now = p.HMGet(ctx, k[0], "digest", "attempt", "submittedAt", "folded")
			list = p.LRange(ctx, k[8], 0, int64(min(foldPage, n-done)-1))
			return nil
		}); err != nil {
			return fmt.Errorf("redisstore: %s: pending chunks: %w", ref, err)
		}
		for i, want := range []string{f["digest"], f["attempt"], f["submittedAt"], strconv.Itoa(folded)} {
			if v, _ := now.Val()[i].(string); v != want {
				return errReplaced
			}
		}
		if pending = list.Val(); len(pending) == 0 {
			return errReplaced
		}
	}
}

// addPage adds the sums of the chunks of a page of pending entries to
// t (fold), those of the batch's attempt and claim (its submittedAt):
// another attempt's were listed before a claim of an earlier release
// replaced it, and an earlier batch's under the id before such a claim
// of the id again, its keys but the list expired. k are the attempt's
// keys. It returns how many of the entries are the batch's.
func (s *Store) addPage(ctx context.Context, ref store.Ref, k []string, f map[string]string, t store.Totals, pending []string) (int, error) {
	var page []string
	for _, e := range pending {
		a, rest, _ := strings.Cut(e, ":")
		if i, at, _ := strings.Cut(rest, ":"); a == f["attempt"] && at == f["submittedAt"] {
			page = append(page, i)
		}
	}
	if len(page) > 0 {
		chunks, err := s.chunkEntries(ctx, ref, k, f, page, "pending")
		if err != nil {
			return 0, err
		}
		for i := range chunks {
			t.Add(&chunks[i])
		}
	}
	return len(page), nil
}

// chunkEntries reads the outcomes of chunks idx (what names them in an
// error) from the attempt's chunks hash (k, its keys), in one transaction
// with the meta hash's digest, attempt and submittedAt, checked against
// those of f, the fields the batch was read with, as Summary reads the
// chunks: errReplaced when a claim replaced it since (the batch claimed
// next under the id, its keys expired, may have the same digest and
// attempt, not the same submittedAt).
func (s *Store) chunkEntries(ctx context.Context, ref store.Ref, k []string, f map[string]string, idx []string, what string) ([]store.Chunk, error) {
	var now, entries *redis.SliceCmd
	if _, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		now = p.HMGet(ctx, k[0], "digest", "attempt", "submittedAt")
		entries = p.HMGet(ctx, k[1], idx...)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("redisstore: %s: chunks: %w", ref, err)
	}
	for i, name := range []string{"digest", "attempt", "submittedAt"} {
		if v, _ := now.Val()[i].(string); v != f[name] {
			return nil, errReplaced
		}
	}
	out := make([]store.Chunk, len(idx))
	for i, e := range entries.Val() {
		v, _ := e.(string)
		if len(v) < 2 {
			return nil, fmt.Errorf("redisstore: %s: no entry of %s chunk %s", ref, what, idx[i])
		}
		if err := json.Unmarshal([]byte(v[1:]), &out[i]); err != nil {
			return nil, fmt.Errorf("redisstore: %s chunk %s: %w", ref, idx[i], err)
		}
	}
	return out, nil
}

// foldPage is the most pending chunks' entries, and entries of the
// pending list, fold reads in one command.
const foldPage = 100

// encodeTotals is t as the meta hash's sums hold it: the totals' form
// (tallyLua), with the partials of a sum with non-finite terms (fsum's
// last), which Go's reads alone parse.
func encodeTotals(t store.Totals) (string, error) {
	sums := make(map[string]string)
	for u, ms := range t {
		for m, total := range ms {
			key, err := json.Marshal([2]string{u, m})
			if err != nil {
				return "", err
			}
			var ps []string
			if !total.Beyond {
				for _, p := range total.Sum.Partials() {
					ps = append(ps, strconv.FormatFloat(p, 'g', -1, 64))
				}
				if len(ps) == 0 {
					ps = []string{"0"}
				}
			}
			sums[string(key)] = strings.Join(ps, ",")
		}
	}
	data, err := json.Marshal(sums)
	return string(data), err
}

// decodeTotals is the totals or sums v of the meta hash (encodeTotals),
// none for "".
func decodeTotals(v string) (store.Totals, error) {
	t := store.Totals{}
	if v == "" {
		return t, nil
	}
	var sums map[string]string
	if err := json.Unmarshal([]byte(v), &sums); err != nil {
		return nil, err
	}
	for key, ps := range sums {
		var um [2]string
		if err := json.Unmarshal([]byte(key), &um); err != nil {
			return nil, err
		}
		total := &store.Total{Beyond: ps == ""}
		for p := range strings.SplitSeq(ps, ",") {
			if p == "" {
				continue
			}
			x, err := strconv.ParseFloat(p, 64)
			if err != nil {
				return nil, err
			}
			total.Sum.Add(x)
		}
		if t[um[0]] == nil {
			t[um[0]] = map[string]*store.Total{}
		}
		t[um[0]][um[1]] = total
	}
	return t, nil
}

// Chunks implements store.Store: the page's entries of the chunks and
// deliv hashes, and their trade counts from the offsets, read up to the
// page's end, in one transaction with the meta hash's attempt.
func (s *Store) Chunks(ctx context.Context, ref store.Ref, attempt, from, n int) ([]store.Chunk, []int, error) {
	k := keys(ref, attempt)
	from, n = max(from, 0), max(n, 0)
	fields := make([]string, n)
	for i := range fields {
		fields[i] = strconv.Itoa(from + i)
	}
	var meta, chunks, deliv *redis.SliceCmd
	if _, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		meta = p.HMGet(ctx, k[0], "attempt", "chunks", "trades", "offsets")
		if n > 0 {
			chunks = p.HMGet(ctx, k[1], fields...)
			deliv = p.HMGet(ctx, k[4], fields...)
		}
		return nil
	}); err != nil {
		return nil, nil, fmt.Errorf("redisstore: %s: chunks: %w", ref, err)
	}
	m := meta.Val()
	a, _ := m[0].(string)
	if a == "" {
		return nil, nil, fmt.Errorf("%w: %s", store.ErrNotFound, ref)
	}
	switch now, _ := strconv.Atoi(a); {
	case attempt < now:
		return nil, nil, fmt.Errorf("%w: %s attempt %d (now %d)", store.ErrStale, ref, attempt, now)
	case attempt > now:
		return nil, nil, fmt.Errorf("%w: %s attempt %d", store.ErrNotFound, ref, attempt)
	}
	total, _ := strconv.Atoi(fmt.Sprint(m[1]))
	trades, _ := strconv.Atoi(fmt.Sprint(m[2]))
	offsets, _ := m[3].(string)
	to := min(from+n, total)
	if from >= to {
		return []store.Chunk{}, []int{}, nil
	}
	out, counts := make([]store.Chunk, to-from), make([]int, to-from)
	// The offsets from the page's first, read once up to its end.
	rest, _ := strings.CutPrefix(offsets, "[")
	for range from {
		i := strings.IndexByte(rest, ',')
		if i < 0 {
			return nil, nil, fmt.Errorf("redisstore: %s: offsets: no offset of chunk %d", ref, from)
		}
		rest = rest[i+1:]
	}
	next := func() (int, error) {
		end := strings.IndexAny(rest, ",]")
		if end < 0 {
			return 0, fmt.Errorf("redisstore: %s: offsets cut short", ref)
		}
		v, err := strconv.Atoi(rest[:end])
		rest = rest[end:]
		if rest != "" && rest[0] == ',' {
			rest = rest[1:]
		}
		return v, err
	}
	lo, err := next()
	if err != nil {
		return nil, nil, err
	}
	for i := range out {
		out[i].Index = from + i
		hi := trades
		if from+i+1 < total {
			if hi, err = next(); err != nil {
				return nil, nil, err
			}
		}
		counts[i], lo = hi-lo, hi
		if v, ok := chunks.Val()[i].(string); ok && len(v) >= 2 {
			if err := json.Unmarshal([]byte(v[1:]), &out[i]); err != nil {
				return nil, nil, fmt.Errorf("redisstore: %s chunk %d: %w", ref, from+i, err)
			}
			if d, ok := deliv.Val()[i].(string); ok {
				out[i].Deliveries, _ = strconv.Atoi(d)
			}
		}
	}
	return out, counts, nil
}

// arrivalsPage bounds the outcomes one call of arrivalsScript reads: a
// call asking for more is answered in several, each blocking Redis for a
// page's time only.
const arrivalsPage = 100

// Arrivals implements store.Store: the indexes from the attempt's arrivals
// list (the scripts append each chunk's as they record its outcome) and
// those chunks' entries and trade ranges, read a page at a time
// (arrivalsScript), each page checked against the meta hash's attempt and
// claim (its submittedAt), as the first page read them. A batch whose list
// does not hold every outcome has every outcome read from its Summary
// (store.Arrived.All): claimed by a release before the list, or with
// outcomes recorded by one (a rolling upgrade), or its list evicted alone.
func (s *Store) Arrivals(ctx context.Context, ref store.Ref, attempt, from, n int) (*store.Arrived, error) {
	k := keys(ref, attempt)
	from, n = max(from, 0), max(n, 0)
	a := &store.Arrived{Chunks: []store.Chunk{}, Lo: []int{}, Hi: []int{}}
	claim := ""
	for {
		page := min(n-len(a.Chunks), arrivalsPage)
		res, err := arrivalsScript.Run(ctx, s.rdb, []string{k[0], k[1], k[4], k[5], k[9]}, attempt, from+len(a.Chunks), page, claim).Slice()
		if err != nil {
			return nil, fmt.Errorf("redisstore: %s: arrivals: %w", ref, err)
		}
		what, _ := res[0].(string)
		switch what {
		case "ok":
		case "notfound":
			return nil, fmt.Errorf("%w: %s attempt %d", store.ErrNotFound, ref, attempt)
		case "stale":
			return nil, fmt.Errorf("%w: %s attempt %d", store.ErrStale, ref, attempt)
		case "unordered":
			return s.allArrived(ctx, ref, attempt)
		case "replaced":
			// Claimed again, as the same attempt (the id forgotten and
			// used again), between two pages: the pages read are an
			// earlier batch's.
			return nil, fmt.Errorf("%w: %s attempt %d, claimed again while read", store.ErrStale, ref, attempt)
		default:
			return nil, fmt.Errorf("redisstore: %s: unexpected arrivals answer %q", ref, what)
		}
		claim, _ = res[1].(string)
		a.SubmittedAt, _ = time.Parse(time.RFC3339Nano, claim)
		got := res[2:]
		for i := 0; i+3 < len(got); i += 4 {
			entry, _ := got[i].(string)
			if len(entry) < 2 {
				return nil, fmt.Errorf("redisstore: %s: no entry of an arrived chunk", ref)
			}
			var c store.Chunk
			if err := json.Unmarshal([]byte(entry[1:]), &c); err != nil {
				return nil, fmt.Errorf("redisstore: %s: arrived chunk: %w", ref, err)
			}
			d, _ := got[i+1].(string)
			c.Deliveries, _ = strconv.Atoi(d)
			lo, _ := got[i+2].(int64)
			hi, _ := got[i+3].(int64)
			a.Chunks, a.Lo, a.Hi = append(a.Chunks, c), append(a.Lo, int(lo)), append(a.Hi, int(hi))
		}
		if len(got)/4 < page || len(a.Chunks) >= n {
			return a, nil
		}
	}
}

// allArrived is Arrivals of a batch whose outcomes' order is not kept:
// every outcome, by index, from its Summary.
func (s *Store) allArrived(ctx context.Context, ref store.Ref, attempt int) (*store.Arrived, error) {
	sum, err := s.Summary(ctx, ref)
	switch {
	case err != nil:
		return nil, err
	case attempt < sum.Attempt:
		return nil, fmt.Errorf("%w: %s attempt %d (now %d)", store.ErrStale, ref, attempt, sum.Attempt)
	case attempt > sum.Attempt:
		return nil, fmt.Errorf("%w: %s attempt %d", store.ErrNotFound, ref, attempt)
	}
	a := &store.Arrived{All: true, SubmittedAt: sum.SubmittedAt}
	for i, c := range sum.Chunks {
		if c.State == store.ChunkWaiting {
			continue
		}
		lo, hi := sum.Bounds(i)
		a.Chunks, a.Lo, a.Hi = append(a.Chunks, c), append(a.Lo, lo), append(a.Hi, hi)
	}
	return a, nil
}

// Brief implements store.Store: the meta hash's fields and counts alone.
// A record with outcomes a release before lastAt was kept recorded (its
// tally has fewer than done: a record of that release, or one of a
// rolling upgrade, with some recorded by this one) has its chunks
// counted, as Summary has them: its lastAt is not the latest outcome's.
func (s *Store) Brief(ctx context.Context, ref store.Ref) (*store.Brief, error) {
	f, err := s.rdb.HMGet(ctx, keys(ref, 0)[0], "attempt", "trades", "chunks", "done", "dead", "submittedAt", "acceptedAt", "lastAt", "tallied", "outcomes").Result()
	if err != nil {
		return nil, fmt.Errorf("redisstore: %s: %w", ref, err)
	}
	if f[0] == nil {
		return nil, fmt.Errorf("%w: %s", store.ErrNotFound, ref)
	}
	if ref.Tenant == "" {
		ref.Tenant = store.DefaultTenant
	}
	str := func(i int) string { v, _ := f[i].(string); return v }
	b := &store.Brief{Ref: ref}
	ints := []*int{&b.Attempt, &b.Trades, &b.Chunks, &b.Done, &b.Dead}
	for i, p := range ints {
		if *p, err = strconv.Atoi(str(i)); err != nil {
			return nil, fmt.Errorf("redisstore: %s: field %d of the brief: %w", ref, i, err)
		}
	}
	if b.Done > 0 && (str(7) == "" || atoi(str(8))+atoi(str(9)) != b.Done) {
		sum, err := s.Summary(ctx, ref)
		if err != nil {
			return nil, err
		}
		return sum.BriefOf(), nil
	}
	b.SubmittedAt, _ = time.Parse(time.RFC3339Nano, str(5))
	if v := str(6); v != "" {
		b.AcceptedAt, _ = time.Parse(time.RFC3339Nano, v)
	}
	if ns, _ := strconv.ParseInt(str(7), 10, 64); ns != 0 {
		b.LastAt = time.Unix(0, ns).UTC()
	}
	return b, nil
}

// Layout implements store.Store: the meta hash's fields, then the
// chunk's offset and trade count from its entry in the attempt's ids hash,
// not the batch's offsets, which are its chunks long (500,000 chunks:
// 4 MB to read for each).
func (s *Store) Layout(ctx context.Context, ref store.Ref, index int) (store.Layout, error) {
	for {
		l, err := s.layout(ctx, ref, index)
		if !errors.Is(err, errReplaced) {
			return l, err
		}
	}
}

func (s *Store) layout(ctx context.Context, ref store.Ref, index int) (store.Layout, error) {
	k0 := keys(ref, 0)[0]
	m, err := s.rdb.HMGet(ctx, k0, "digest", "attempt", "chunks", "trades").Result()
	if err != nil {
		return store.Layout{}, fmt.Errorf("redisstore: %s: %w", ref, err)
	}
	var f [4]string
	for i := range f {
		f[i], _ = m[i].(string)
	}
	if f[0] == "" {
		return store.Layout{}, fmt.Errorf("%w: %s", store.ErrNotFound, ref)
	}
	l := store.Layout{Digest: f[0]}
	var trades int
	for i, p := range []*int{&l.Attempt, &l.Chunks, &trades} {
		if *p, err = strconv.Atoi(f[i+1]); err != nil {
			return store.Layout{}, fmt.Errorf("redisstore: %s: field %s: %w", ref, []string{"attempt", "chunks", "trades"}[i], err)
		}
	}
	if index < 0 || index >= l.Chunks {
		return l, nil
	}
	// In one transaction with the meta hash's digest and attempt, checked
	// against those read above: a claim in between replaced the ids.
	var now *redis.SliceCmd
	var ids *redis.StringCmd
	if _, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		now = p.HMGet(ctx, k0, "digest", "attempt")
		ids = p.HGet(ctx, keys(ref, l.Attempt)[5], strconv.Itoa(index))
		return nil
	}); err != nil && !errors.Is(err, redis.Nil) {
		return store.Layout{}, fmt.Errorf("redisstore: %s chunk %d: %w", ref, index, err)
	}
	if d, a := now.Val()[0], now.Val()[1]; d != f[0] || a != f[1] {
		return store.Layout{}, errReplaced
	}
	var ct chunkTrades
	if v, err := ids.Bytes(); err == nil {
		if err := json.Unmarshal(v, &ct); err != nil {
			return store.Layout{}, fmt.Errorf("redisstore: %s chunk %d trades: %w", ref, index, err)
		}
	}
	if ct.Offset != nil {
		l.Lo, l.Hi = *ct.Offset, *ct.Offset+len(ct.IDs)
		return l, nil
	}
	// A claim of an earlier release wrote no offsets with the ids: the
	// batch's own.
	offsets, err := s.rdb.HGet(ctx, k0, "offsets").Result()
	if err != nil {
		return store.Layout{}, fmt.Errorf("redisstore: %s: offsets: %w", ref, err)
	}
	if l.Lo, l.Hi, err = bounds(offsets, index, trades); err != nil {
		return store.Layout{}, fmt.Errorf("redisstore: %s: offsets: %w", ref, err)
	}
	return l, nil
}

// bounds returns the trade range of chunk index from offsets, the JSON
// array of the chunks' offsets Claim writes ("[0,10,20]"), reading it up
// to the chunk's next offset: the whole array is the batch's chunks long.
// The last chunk ends at trades.
func bounds(offsets string, index, trades int) (lo, hi int, err error) {
	rest, ok := strings.CutPrefix(offsets, "[")
	for range index {
		i := strings.IndexByte(rest, ',')
		if i < 0 {
			ok = false
			break
		}
		rest = rest[i+1:]
	}
	end := strings.IndexAny(rest, ",]")
	if !ok || end < 0 {
		return 0, 0, fmt.Errorf("no offset of chunk %d", index)
	}
	if lo, err = strconv.Atoi(rest[:end]); err != nil {
		return 0, 0, err
	}
	if rest[end] == ']' {
		return lo, trades, nil
	}
	rest = rest[end+1:]
	if end = strings.IndexAny(rest, ",]"); end < 0 {
		return 0, 0, fmt.Errorf("no offset of chunk %d", index+1)
	}
	hi, err = strconv.Atoi(rest[:end])
	return lo, hi, err
}

// Trades implements store.Store.
func (s *Store) Trades(ctx context.Context, ref store.Ref, attempt, index int) ([]string, error) {
	v, err := s.attemptField(ctx, ref, attempt, index, keys(ref, attempt)[5])
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, fmt.Errorf("%w: %s attempt %d chunk %d", store.ErrNotFound, ref, attempt, index)
	}
	var ct chunkTrades
	if err := json.Unmarshal(v, &ct); err != nil {
		return nil, fmt.Errorf("redisstore: %s chunk %d trades: %w", ref, index, err)
	}
	return ct.IDs, nil
}

// WriteResults implements store.Store.
func (s *Store) WriteResults(ctx context.Context, ref store.Ref, attempt, index int, w io.Writer) error {
	v, err := s.attemptField(ctx, ref, attempt, index, keys(ref, attempt)[2])
	if err != nil || v == nil { // a chunk without results writes nothing
		return err
	}
	_, err = w.Write(v)
	return err
}

// attemptField returns field index of hash key, one of attempt's keys,
// read in one transaction with the meta hash and checked against it as the
// scripts check an event (attemptCheckLua): an attempt that a resubmission
// replaced has had its keys deleted, and reading them alone would answer
// "no results" for a chunk that had some, so that a document read from an
// older summary would be served without its trades. It returns nil for a
// field that is not set.
func (s *Store) attemptField(ctx context.Context, ref store.Ref, attempt, index int, key string) ([]byte, error) {
	var meta *redis.SliceCmd
	var field *redis.StringCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		meta = p.HMGet(ctx, keys(ref, attempt)[0], "attempt", "chunks")
		field = p.HGet(ctx, key, strconv.Itoa(index))
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) { // Nil: the field is not set
		return nil, fmt.Errorf("redisstore: %s attempt %d chunk %d: %w", ref, attempt, index, err)
	}
	m := meta.Val()
	a, _ := m[0].(string)
	n, _ := m[1].(string)
	if a == "" {
		return nil, fmt.Errorf("%w: %s", store.ErrNotFound, ref)
	}
	now, err := strconv.Atoi(a)
	if err != nil {
		return nil, fmt.Errorf("redisstore: %s: field attempt: %w", ref, err)
	}
	chunks, err := strconv.Atoi(n)
	if err != nil {
		return nil, fmt.Errorf("redisstore: %s: field chunks: %w", ref, err)
	}
	switch {
	case attempt < now:
		return nil, fmt.Errorf("%w: %s attempt %d (now %d)", store.ErrStale, ref, attempt, now)
	case attempt > now:
		return nil, fmt.Errorf("%w: %s attempt %d", store.ErrNotFound, ref, attempt)
	case index < 0 || index >= chunks:
		return nil, fmt.Errorf("%w: batch %s has no chunk %d", store.ErrBadChunk, ref, index)
	}
	v, err := field.Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("redisstore: %s attempt %d chunk %d: %w", ref, attempt, index, err)
	}
	return v, nil
}

// Watch implements store.Store.
func (s *Store) Watch(ctx context.Context, ref store.Ref) (<-chan struct{}, func(), error) {
	ch, stop := s.watches.Watch(member(ref))
	return ch, stop, nil
}
