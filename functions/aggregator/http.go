package aggregator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/pricefn/pricefn/api"
	"github.com/pricefn/pricefn/batch"
	"github.com/pricefn/pricefn/events"
	"github.com/pricefn/pricefn/functions/host"
	"github.com/pricefn/pricefn/store"
)

// Routes returns the aggregator's HTTP routes, the ones its Knative service
// serves:
//
//	POST /                        batch.accepted and chunk.priced CloudEvents (the trigger's subscriber)
//	POST /dead-letter             events the broker gave up on (the dead-letter sink)
//	GET  /batches                 the tenant's recent batches (BatchList), ?limit=N
//	GET  /batches/{id}            status (Status)
//	GET  /batches/{id}/results    results in input order (wire format section 2)
//
// The status takes ?timeline=true for each chunk's timeline (Timeline),
// a page of it: ?from=N (its first chunk) and ?limit=M (DefaultTimelineLimit,
// at most MaxTimelineLimit chunks).
// Both GETs take ?wait=DURATION (Go syntax, capped at MaxWait): the request
// is held until the batch is finished or the wait ends. Results of a batch
// not finished when the answer is due are a 202 with its status instead;
// an unknown batch is a 404, at once without ?wait and after at most
// UnknownGrace with it (the batch.accepted of a batch just submitted may
// still be on its way). The results take ?stream=true instead: a 200 as
// soon as the batch is known, its document written as its chunks finish
// (streamResults). A query parameter a route does not take, or one given
// twice, is a 400 (host.CheckParams); the events take none.
//
// Behind guard (nil admits everything), the event routes take only
// authentic events (a forged dead letter is refused like any other event:
// it is the original event with the broker's extensions), and the GET
// routes want a token with the read scope and serve only its tenant's
// batches.
func (f *Function) Routes(log zerolog.Logger, guard host.Guard) http.Handler {
	mux := host.NewMux()
	mux.Handle("POST /{$}", f.metrics.requests.Track(routeEvent, host.Events(host.Guarded(guard, f), log)))
	mux.Handle("POST /dead-letter", f.metrics.requests.Track(routeDeadLetter, host.Events(host.Guarded(guard, host.HandlerFunc(f.HandleDeadLetter)), log)))
	q := f.Query(guard)
	mux.Handle("GET /batches", q)
	// Every method below /batches/: Query answers the wrong ones. Not as
	// "/batches/", which would redirect another method on /batches
	// there (a 307, then a 404) rather than answer its 405.
	mux.Handle("/batches/{id}", q)
	mux.Handle("/batches/{id}/{rest...}", q)
	return mux
}

// Query returns the handler of the GET routes of the results API, behind
// guard's tokens with the read scope (nil admits everything), for a
// gateway to mount at "GET /batches", "/batches/{id}" and
// "/batches/{id}/{rest...}" (every method, as Routes does). Each
// route is measured under its pattern's name, its refusals (401, 403)
// included; a path no route matches wants a token all the same, then is a
// 404, whatever the method, and another method than GET or HEAD on a
// route's path a 405.
func (f *Function) Query(guard host.Guard) http.Handler {
	read := func(route string, h http.HandlerFunc) http.Handler {
		return f.metrics.requests.Track(route, host.Required(guard, host.ScopeRead, h))
	}
	mux := host.NewMux()
	mux.Handle("GET /batches", read(routeList, f.serveList))
	mux.Handle("GET /batches/{id}", read(routeStatus, func(w http.ResponseWriter, r *http.Request) { f.serveQuery(w, r, false) }))
	mux.Handle("GET /batches/{id}/results", read(routeResults, func(w http.ResponseWriter, r *http.Request) { f.serveQuery(w, r, true) }))
	mux.Handle("GET /batches/{id}/events", read(routeEvents, f.serveEvents))
	// Any other path below /batches/, or method on one: the token first,
	// as before the routes were measured, so that a caller without one
	// learns nothing of which paths exist. A method of every path below
	// /batches/ comes here (the patterns above match a GET or a HEAD
	// alone): a 405 on a route's path, else a 404, where the gateway's
	// "GET /batches/" had told to GET what is no route.
	mux.Handle("/batches/", host.Required(guard, host.ScopeRead, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead && queryPath(r.URL.Path) {
			w.Header().Set("Allow", "GET, HEAD")
			host.WriteError(w, host.Errorf(http.StatusMethodNotAllowed, "host: %s %s: method not allowed (allowed: GET, HEAD)", r.Method, r.URL.Path))
			return
		}
		host.WriteError(w, host.Errorf(http.StatusNotFound, "host: %s %s: no such route", r.Method, r.URL.Path))
	})))
	return mux
}

// queryParams refuses a query parameter the status (results false) or the
// results do not take, as host.CheckParams does.
func queryParams(u *url.URL, results bool) error {
	if results {
		return host.CheckParams(u, "aggregator", "GET /batches/{id}/results", "wait", "stream", "timeline", "from", "limit")
	}
	return host.CheckParams(u, "aggregator", "GET /batches/{id}", "wait", "timeline", "from", "limit")
}

// queryPath reports whether path is one of Query's routes below /batches/:
// /batches/{id}, /batches/{id}/results or /batches/{id}/events.
func queryPath(path string) bool {
	id, rest, sub := strings.Cut(strings.TrimPrefix(path, "/batches/"), "/")
	return id != "" && (!sub || rest == "results" || rest == "events")
}

func (f *Function) serveQuery(w http.ResponseWriter, r *http.Request, results bool) {
	id := r.PathValue("id")
	if err := queryParams(r.URL, results); err != nil {
		host.WriteError(w, err)
		return
	}
	wait, err := f.parseWait(r.URL.Query())
	if err != nil {
		host.WriteError(w, err)
		return
	}
	timeline, err := boolParam(r.URL.Query(), "timeline")
	if err != nil {
		host.WriteError(w, err)
		return
	}
	page, err := timelinePageOf(r.URL.Query(), timeline)
	if err != nil {
		host.WriteError(w, err)
		return
	}
	if results {
		stream, err := boolParam(r.URL.Query(), "stream")
		if err != nil {
			host.WriteError(w, err)
			return
		}
		if stream {
			f.streamResults(w, r, store.Ref{Tenant: host.TenantOf(r.Context()), ID: id})
			return
		}
	}
	for {
		// A batch is its tenant's: another tenant's id is as unknown as one
		// never submitted.
		ref := store.Ref{Tenant: host.TenantOf(r.Context()), ID: id}
		t, err := f.waitFinished(r, ref, wait)
		if err != nil && r.Context().Err() != nil {
			requestEnded(w, r)
			return
		}
		if err != nil {
			host.WriteError(w, f.readError(id, "", err))
			return
		}
		if !results {
			// The status from the sums the store keeps, and its
			// timeline's page from the page's chunks alone: read from
			// every chunk's outcome, a status of a batch of 100,000 chunks
			// took 0.16 s of CPU and 21 MB a read, and clients poll it.
			st := StatusOfTally(t, f.opt.Now())
			if timeline {
				chunks, trades, err := f.opt.Store.Chunks(r.Context(), ref, t.Attempt, page.From, page.Limit)
				if errors.Is(err, store.ErrStale) {
					continue // priced again since the tally was read: the batch as it now is
				}
				if err != nil {
					host.WriteError(w, f.readError(id, t.TraceParent, err))
					return
				}
				st.Timeline, st.TimelineNext = timelineOf(chunks, trades, t.SubmittedAt, t.Chunks)
			}
			host.WriteJSON(w, http.StatusOK, st)
			return
		}
		sum, err := f.opt.Store.Summary(r.Context(), ref)
		if err != nil {
			host.WriteError(w, f.readError(id, "", err))
			return
		}
		st := StatusOf(sum, f.opt.Now())
		if timeline {
			st.Timeline, st.TimelineNext = Timeline(sum, page)
		}
		if !results {
			host.WriteJSON(w, http.StatusOK, st)
			return
		}
		if !api.Finished(st.State) {
			w.Header().Set("Retry-After", "1")
			host.WriteJSON(w, http.StatusAccepted, st)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set(api.HeaderAttempt, strconv.Itoa(sum.Attempt))
		cw := &countingWriter{w: w}
		err = f.writeResults(r.Context(), cw, sum)
		if err == nil {
			return
		}
		if cw.n == 0 && r.Context().Err() == nil {
			// Nothing sent yet, the client still there: the status line is
			// still ours.
			w.Header().Del(api.HeaderAttempt)
			if errors.Is(err, store.ErrStale) {
				continue // priced again since the summary was read: the batch as it now is
			}
			host.WriteError(w, f.readError(id, sum.TraceParent, err))
			return
		}
		// The status line is gone: cut the document short, so that the
		// client's JSON decoder fails rather than read half the results.
		f.opt.Log.Error().Err(err).Str("batchid", id).Str(events.ExtTraceParent, sum.TraceParent).Msg("serving results failed")
		panic(http.ErrAbortHandler)
	}
}

// countingWriter counts the bytes written through it: whether a response
// has been started.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// writeResults streams the results document of a finished batch, chunk by
// chunk: the trades of a dead chunk get an error naming the chunk and why
// it failed. It holds one chunk in memory at a time.
func (f *Function) writeResults(ctx context.Context, w io.Writer, sum *store.Summary) error {
	defer f.opt.Store.Pin(ctx, sum.Ref)()
	rw := batch.NewResultsWriter(w, sum.Ref.ID)
	var scenarios scenarioCollector
	for i := range sum.Chunks {
		base := store.ChunkWaiting
		if j, ok := blockBase(sum, i); ok {
			base = sum.Chunks[j].State
		}
		if err := f.writeChunk(ctx, rw, sum, &sum.Chunks[i], base, &scenarios); err != nil {
			return err
		}
	}
	if err := scenarios.finish(sum, rw); err != nil {
		return err
	}
	return rw.Close()
}

// writeChunk writes chunk c.Index of the batch sum lays out (its Chunks
// unused), whose outcome is c, to its results document: its results, or
// an error for each of its trades when it has none; a scenario chunk's
// sums go to scenarios, base the state of its block's base chunk
// (blockBase). The chunks are taken in index order, so that the document
// and its scenario sums are the same to the last bit whoever writes them.
func (f *Function) writeChunk(ctx context.Context, rw *batch.ResultsWriter, sum *store.Summary, c *store.Chunk, base store.ChunkState, scenarios *scenarioCollector) error {
	i := c.Index
	if lo, hi := sum.Bounds(i); lo == hi { // a scenario chunk (scenarios.go)
		return f.collectScenarios(ctx, sum, c, base, scenarios)
	}
	if c.State == store.ChunkPriced {
		// The chunk's results, in one Write (store.Store), go on to the
		// document as they are: no copy of some 2 MB a chunk.
		return f.opt.Store.WriteResults(ctx, sum.Ref, sum.Attempt, i, encodedRun{rw})
	}
	ids, err := f.opt.Store.Trades(ctx, sum.Ref, sum.Attempt, i)
	if err != nil {
		return err
	}
	for _, id := range ids {
		msg := fmt.Sprintf("trade %s: not priced: chunk %d failed: %s", id, i, c.Reason)
		if c.State == store.ChunkWaiting {
			msg = fmt.Sprintf("trade %s: not priced yet: chunk %d is pending", id, i)
		}
		if err := rw.Write(batch.TradeResult{ID: id, Error: msg}); err != nil {
			return err
		}
	}
	return nil
}

// parseWait reads ?wait: absent is no wait; a bad duration is a 400, and
// so is an empty one (?wait, ?wait=), which was taken for no wait, the
// request answered at once; a wait longer than MaxWait is cut to it. The
// value is quoted cut, as every parameter's is.
func (f *Function) parseWait(q url.Values) (time.Duration, error) {
	if !q.Has("wait") {
		return 0, nil
	}
	v := q.Get("wait")
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, host.Errorf(http.StatusBadRequest, "aggregator: wait %q: want a Go duration such as 30s", host.Short(v))
	}
	if d < 0 {
		// A Go duration all the same: the reason is its sign.
		return 0, host.Errorf(http.StatusBadRequest, "aggregator: wait %q: want 0 or more, such as 30s", host.Short(v))
	}
	return min(d, f.opt.MaxWait), nil
}

// waitFinished returns the Tally of batch ref once it is finished, or
// when the wait ends, the request ends or the server drains. A batch past
// its deadline is ended on the way. A batch it does not know is waited
// for UnknownGrace at most. It reads the Tally at each change, not the
// Summary: read for every chunk recorded, that of a batch of many chunks
// kept a core busy for each request waiting.
func (f *Function) waitFinished(r *http.Request, ref store.Ref, wait time.Duration) (*store.Tally, error) {
	ctx := r.Context()
	var deadline, grace <-chan time.Time
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		deadline = t.C
		if f.opt.UnknownGrace < wait {
			g := time.NewTimer(f.opt.UnknownGrace)
			defer g.Stop()
			grace = g.C
		}
	}
	for {
		changed, stop, err := f.opt.Store.Watch(ctx, ref)
		if err != nil {
			return nil, err
		}
		sum, err := f.currentTally(ctx, ref)
		if (err == nil && sum.Done()) || (err != nil && !errors.Is(err, store.ErrNotFound)) || wait == 0 {
			stop()
			return sum, err
		}
		known := err == nil
		var batchDeadline <-chan time.Time
		if known && !sum.Deadline.IsZero() {
			t := time.NewTimer(time.Until(sum.Deadline) + 10*time.Millisecond)
			defer t.Stop()
			batchDeadline = t.C
		}
		select {
		case <-changed:
			stop()
			continue
		case <-batchDeadline:
			stop()
			continue
		case <-grace:
			stop()
			if known { // the batch exists: wait on for it to finish
				grace = nil
				continue
			}
		case <-deadline:
			stop()
		case <-ctx.Done():
			stop()
			// The request ended: its client left, or its token was
			// revoked. Nothing more is read for it.
			return nil, context.Cause(ctx)
		case <-f.drain:
			stop()
		}
		sum, err = f.opt.Store.Tally(ctx, ref)
		return sum, err
	}
}

// requestEnded answers a request that ended while it waited: with its
// cause when that is the client's fault (a token revoked: a 401), else
// with nothing, its client having left. The batch is not read again for
// it: a revoked token read the status once more (a 202), and a Redis
// store, asked with the ended context, failed, logged as a store fault
// and answered 503, whenever a client gave up on a ?wait.
func requestEnded(w http.ResponseWriter, r *http.Request) {
	cause := context.Cause(r.Context())
	if code := host.Status(cause); code >= 400 && code < 500 {
		host.WriteError(w, cause)
	}
}

// encodedRun writes what it is given to a results document as one run of
// encoded results (ResultsWriter.WriteEncoded): a chunk's results, which a
// store writes in one call.
type encodedRun struct{ rw *batch.ResultsWriter }

func (e encodedRun) Write(p []byte) (int, error) {
	if err := e.rw.WriteEncoded(p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// notFound is the 404 of a batch the store does not hold: never
// submitted, or forgotten, past its retention or, in a memory store at its
// bound, to make room for newer batches (the oldest finished go first).
// The id, the path's, of any length, is cut as an error quotes a value.
func notFound(id string) error {
	return host.Errorf(http.StatusNotFound, "aggregator: batch %q not found (never submitted, or forgotten: past its retention, or, when the engine's store is full, to make room for newer batches)", host.Short(id))
}

// readError answers a public read of batch id (of trace context tp, when
// known) that the store failed: a 404 for a batch it does not know, else
// unavailable's 503.
func (f *Function) readError(id, tp string, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return notFound(id)
	}
	return f.unavailable(id, tp, err)
}

// unavailable answers a public read the store failed, of batch id ("" for
// a list) of trace context tp ("" when not known): the store's error,
// which names its address and keys, goes to the log (with the batchid and
// traceparent); the client gets a 503 that names neither (a 4xx, worded
// for the client, as it is).
func (f *Function) unavailable(id, tp string, err error) error {
	if code := host.Status(err); code >= 400 && code < 500 {
		return err
	}
	what := "listing batches"
	id = host.Short(id) // the path's, of any length
	if id != "" {
		what = fmt.Sprintf("batch %q", id)
	}
	ev := f.opt.Log.Error().Err(err)
	if id != "" {
		ev = ev.Str("batchid", id)
	}
	if tp != "" {
		ev = ev.Str(events.ExtTraceParent, tp)
	}
	ev.Msg(what + ": the batch store failed")
	return host.Errorf(http.StatusServiceUnavailable, "aggregator: %s: the batch store is unavailable: try again in a moment", what)
}
