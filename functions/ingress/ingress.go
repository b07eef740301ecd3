// Package ingress is the function that accepts batches: it validates a
// submitted batch as a whole, assigns its id, splits its trades into chunks
// of about equal pricing time, claims the id in the shared store (the same
// content is the same batch, other content under a used id is a 409),
// tells the aggregator that the batch exists (io.pricefn.batch.accepted)
// and sends its chunks (io.pricefn.chunk.requested) to the broker
// concurrently.
package ingress

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/protocol"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"

	"github.com/pricefn/pricefn/api"
	"github.com/pricefn/pricefn/batch"
	"github.com/pricefn/pricefn/events"
	"github.com/pricefn/pricefn/functions/host"
	"github.com/pricefn/pricefn/store"
)

// sender sends one event to the broker; the CloudEvents client and
// *host.Sender satisfy it.
type sender interface {
	Send(ctx context.Context, e event.Event) protocol.Result
}

// Options configures the ingress function. Sender and Store are
// required; the zero value of every other field is a valid default.
type Options struct {
	// Sender delivers events to the broker (K_SINK).
	Sender sender
	// Store is the batch state shared with the aggregator: ingress claims
	// each batch id there and records its trades.
	Store store.Store
	// BatchTimeout is how long a batch may take before it ends partial,
	// unless the batch sets its own deadline; 0 means DefaultDeadline(cost).
	BatchTimeout time.Duration
	// Limits bound what one tenant has in flight; beyond them a
	// submission is a 429. The zero value bounds nothing.
	Limits store.Limits
	// Source is the CloudEvents source of the events ingress emits.
	Source string
	// PublicURL is the base of the results API in status URLs
	// ("https://pricefn.example.com"); empty gives relative URLs.
	PublicURL string
	// Chunk tunes the split into chunks.
	Chunk batch.ChunkOptions
	// Curves, when not nil, keeps the bootstrapped curves ingress builds
	// to check and plan a batch: pricefn dev shares it with its pricer,
	// whose chunks of the batch then find them built. nil builds each.
	Curves *batch.CurveCache
	// MaxBootstrapInstruments bounds the instruments of the bootstrapped
	// curves a batch's trades use, in all, which ingress builds to check
	// and plan it: past it the batch is a 413 (batch.ErrBootstrapBound).
	// 0 bounds nothing; config's default is
	// batch.DefaultMaxBootstrapInstruments.
	MaxBootstrapInstruments int
	// SendLimit is how many chunks are sent at once; 0 means 16.
	SendLimit int
	// SendTimeout bounds sending one batch's events; 0 means 2 minutes.
	SendTimeout time.Duration
	// ResendAfter is how long a batch never recorded sent in full may go
	// without a sign of life from the ingress sending it (its claim, then
	// Store.Sending every ResendAfter/3 while it sends, a broker answering
	// 429 included) before it is taken for one whose ingress stopped:
	// submitted again, its chunks with no outcome are sent again. 0 means
	// 15 seconds; at least 3 ms.
	ResendAfter time.Duration
	// StallAfter is how long a batch sent in full may go without a chunk
	// outcome, nor a send, before it is taken for one whose queued chunks
	// were lost (a broker that keeps them in memory, pricefn dev's or
	// pricefn broker's, restarted): submitted again, its chunks with no
	// outcome are sent again, rather than it waiting for its deadline. A
	// chunk priced twice counts once. 0 means never: a broker that keeps
	// its queue (Knative's) loses nothing, and a batch queued behind
	// others would have its chunks queued again.
	StallAfter time.Duration
	// MaxBatchBytes bounds the body of a submitted batch, CloudEvent or
	// plain JSON; a longer one is a 413. 0 means host.DefaultMaxBodyBytes.
	MaxBatchBytes int64
	// MaxBytesReading bounds the bytes of the batches the public routes
	// decode at once (a batch takes about ten times its size meanwhile):
	// a batch read waits for its room, and one larger than the bound is
	// decoded when nothing else is. 0 means no bound.
	MaxBytesReading int64
	// Log receives one line per batch; the zero logger writes nothing.
	Log zerolog.Logger
	// Registerer receives the stage latency histograms; nil registers none.
	Registerer prometheus.Registerer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// NewID returns a fresh batch id for a batch submitted without one;
	// nil means a random id.
	NewID func() string
}

// sendTimeout bounds sending one batch's events to the broker.
const sendTimeout = 2 * time.Minute

// defaultResendAfter is Options.ResendAfter's default.
const defaultResendAfter = 15 * time.Second

// abandonTimeout bounds recording a batch's unsent chunks dead.
const abandonTimeout = 10 * time.Second

// DefaultSource is the source of ingress's events unless Options says.
const DefaultSource = "/pricefn/ingress"

// Function is the ingress function.
type Function struct {
	opt     Options
	metrics *metrics
	reading *semaphore.Weighted // Options.MaxBytesReading; nil: no bound
}

// New returns the ingress function. It panics if opt.Sender is nil or its
// metrics cannot be registered with opt.Registerer (registered twice):
// programmer errors.
func New(opt Options) *Function {
	if opt.Sender == nil || opt.Store == nil {
		panic("ingress: New without a Sender or a Store")
	}
	if opt.Source == "" {
		opt.Source = DefaultSource
	}
	if opt.SendLimit <= 0 {
		opt.SendLimit = 16
	}
	if opt.SendTimeout <= 0 {
		opt.SendTimeout = sendTimeout
	}
	if opt.ResendAfter <= 0 {
		opt.ResendAfter = defaultResendAfter
	}
	opt.ResendAfter = max(opt.ResendAfter, 3*time.Millisecond)
	if opt.MaxBatchBytes <= 0 {
		opt.MaxBatchBytes = host.DefaultMaxBodyBytes
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.NewID == nil {
		opt.NewID = func() string { return "b-" + rand.Text()[:16] }
	}
	f := &Function{opt: opt, metrics: newMetrics(opt.Registerer)}
	if opt.MaxBytesReading > 0 {
		f.reading = semaphore.NewWeighted(opt.MaxBytesReading)
	}
	return f
}

// Submission is a batch as ingress receives it.
type Submission struct {
	// Data is the batch document (wire format section 1).
	Data []byte
	// BatchID is the id the submitting event's batchid extension gives.
	BatchID string
	// Source and ID identify the submitting CloudEvent, when there is one:
	// a batch without an id is given one derived from them, so that a
	// redelivered event makes the same batch.
	Source, ID string
	// TraceParent is the W3C trace context to propagate.
	TraceParent string
	// Tenant is the tenant the batch belongs to (its submitter's token);
	// "" means the default tenant. Batch ids are scoped by it.
	Tenant string
	// Sample describes the trades of a sample batch (/valQuery), for the
	// receipt.
	Sample string
	// digest, when set, is events.Digest(Data), taken while Data arrived
	// (digestingBody, this package's HTTP routes); else Submit computes it.
	digest string
	// logRefusal has Submit log a refusal with the batch's id and trace
	// (this package's HTTP routes; an event's is logged by host.Events).
	logRefusal bool
}

// Receipt is ingress's answer to an accepted batch, defined with the rest
// of the public API's documents.
type Receipt = api.Receipt

// Handle receives an io.pricefn.batch.submitted event: the form the broker
// delivers. It has no reply.
func (f *Function) Handle(ctx context.Context, e event.Event) (*event.Event, error) {
	defer f.metrics.requests.Begin()()
	s, err := SubmissionOf(e)
	if err != nil {
		f.metrics.rejected.WithLabelValues(rejectMalformed).Inc()
		return nil, err
	}
	s.Tenant = host.TenantOf(ctx)
	// Decoded in its turn, as a batch posted to the public routes is.
	done, err := f.admit(ctx, len(s.Data))
	if err != nil {
		return nil, host.Errorf(http.StatusServiceUnavailable, "ingress: batch.submitted %s: waiting to decode it: %w", e.ID(), err)
	}
	defer done()
	_, err = f.Submit(ctx, s)
	switch host.Status(err) {
	case http.StatusBadRequest:
		f.metrics.rejected.WithLabelValues(rejectInvalidBatch).Inc()
	case http.StatusConflict:
		// Other content under an id in use can never be accepted, and a
		// broker retries a 409 (Knative's delivery does, as
		// events.Retryable): a 422, which goes to the dead-letter sink
		// at once, rather than eight more decodings of the batch.
		return nil, host.Errorf(http.StatusUnprocessableEntity, "%s", host.Message(err))
	}
	return nil, err
}

// SubmissionOf reads a batch.submitted event. Another type, or data that
// is not JSON, is a 400.
func SubmissionOf(e event.Event) (Submission, error) {
	if e.Type() != events.TypeBatchSubmitted {
		return Submission{}, host.Errorf(http.StatusBadRequest, "ingress: %w: got %q, want %q", events.ErrWrongType, e.Type(), events.TypeBatchSubmitted)
	}
	if ct := e.DataContentType(); !events.JSONContent(ct) {
		return Submission{}, host.Errorf(http.StatusBadRequest, "ingress: datacontenttype %q, want application/json", ct)
	}
	tp, _ := e.Extensions()[events.ExtTraceParent].(string)
	return Submission{Data: e.Data(), BatchID: events.BatchID(e), Source: e.Source(), ID: e.ID(), TraceParent: tp}, nil
}

// Submit validates the batch, claims its id in the store, sends its
// batch.accepted event and then its chunks. A batch that cannot be priced
// as a whole is a 400 naming the reason; an id in use by a batch of other
// content a 409; a batch submitted again with the same content is the same
// batch (not priced again) unless it ended failed or partial, when it is
// priced again as a new attempt, or its ingress stopped before sending it
// all (unsent), when its chunks with no outcome are sent again. A broker that does not take the events
// after retries is a 503: the chunks not sent are recorded dead, so the
// batch ends partial at once and the client may resubmit.
func (f *Function) Submit(ctx context.Context, s Submission) (rc *Receipt, err error) {
	defer func() { f.metrics.submitted(rc, err) }()
	t0 := f.opt.Now()
	s.TraceParent = host.TraceParent(s.TraceParent)
	id := host.Short(s.BatchID) // the batch's, once read; the event's is not checked yet
	if s.logRefusal {
		defer func() {
			if err != nil {
				f.opt.Log.Warn().Err(err).Int("status", host.Status(err)).Str("batchid", id).
					Str(events.ExtTraceParent, s.TraceParent).Msg("batch not accepted")
			}
		}()
	}
	// The content's digest on another core while the batch is read; done
	// before Submit returns on any path (the body's buffer is then reused).
	digest := s.digest
	var hashing sync.WaitGroup
	if digest == "" {
		hashing.Go(func() { digest = events.Digest(s.Data) })
	}
	defer hashing.Wait()
	// Read to be checked and planned, not priced: the pricers read the
	// terms that do not change a trade's cost (batch.DecodePlan).
	b, err := batch.DecodePlan(s.Data)
	if err != nil {
		if s.ID == "" && envelopeField(err) {
			// A structured CloudEvent sent as plain JSON: its attributes
			// read as a batch's unknown fields, and nothing said why.
			return nil, host.Errorf(http.StatusBadRequest, "ingress: %w: a structured CloudEvent wants Content-Type application/cloudevents+json", err)
		}
		return nil, host.Errorf(http.StatusBadRequest, "ingress: %w", err)
	}
	defer b.Release() // its trades' memory serves the next batch
	if b.ID != "" {
		id = host.Short(b.ID) // not checked yet
	}
	ownID := b.ID != "" || s.BatchID != ""
	if b.ID, err = f.batchID(b.ID, s); err != nil {
		return nil, err
	}
	id = b.ID
	// A refusal before the claim names the batch by an id the client
	// knows (its own, or its event's): one ingress made up for it names
	// no batch, and a client that read "batch b-7Q4H..." looked it up.
	named := "batch " + b.ID
	if !ownID && s.ID == "" {
		named = "the batch"
	}
	timeout, err := f.timeout(b)
	if err != nil {
		return nil, err
	}
	if n := f.opt.Limits.MaxTrades; n > 0 && len(b.Trades) > n {
		// Over the limit alone, it can never be claimed: not the 429 of
		// a tenant whose other batches are in the way, which a client
		// retries.
		return nil, host.Errorf(http.StatusRequestEntityTooLarge, "ingress: %s has %d trades, more than its tenant may have in flight (%d): split it into smaller batches", named, len(b.Trades), n)
	}
	// Compiled to be planned: each trade's cost kept, not its compiled
	// form, which nothing here prices.
	job, err := batch.CompilePlan(b, batch.Engines{Curves: f.opt.Curves, CurveScope: cmp.Or(s.Tenant, host.DefaultTenant), MaxBootstrapInstruments: f.opt.MaxBootstrapInstruments})
	if err != nil {
		code := http.StatusBadRequest
		if errors.Is(err, batch.ErrBootstrapBound) {
			// Too much work to take in one request, however long the
			// client waits: a 413, as a batch of too many chunks.
			code = http.StatusRequestEntityTooLarge
		}
		if named == "the batch" {
			return nil, host.Errorf(code, "ingress: %w", err) // "batch: trades[0]...", as a decoding fault
		}
		return nil, host.Errorf(code, "ingress: %s: %w", named, err)
	}
	t1 := f.opt.Now()
	f.metrics.stage.WithLabelValues("validate").Observe(t1.Sub(t0).Seconds())

	plan := batch.PlanChunks(b, job, f.opt.Chunk) // scenarios split too
	if n := f.opt.Chunk.ChunksLimit(); len(plan) > n {
		// Planned in full, its chunks' records and events took some
		// 1.2 KB each: 10 million of them, of a 1.6 MB risk run, some
		// 12 GB. Waiting cannot help: a 413.
		cost, fewer := "its trades' cost", "fewer trades"
		if len(b.Scenarios.List) > 0 {
			cost, fewer = "its trades' cost under its scenarios", "fewer trades or scenarios"
		}
		return nil, host.Errorf(http.StatusRequestEntityTooLarge, "ingress: %s needs more than %d chunks of pricing (%s): split it into smaller batches (%s), or make its trades cheaper (fewer paths)", named, n, cost, fewer)
	}
	offsets := batch.ChunkOffsets(plan)
	if timeout == 0 {
		timeout = DefaultDeadline(job.TotalCost())
	}
	// The chunks carry the trades' JSON: the decoded terms (and the job,
	// not used below) are garbage from here on, while the chunks are sent.
	b.DropTerms()
	if s.Tenant == "" {
		s.Tenant = host.DefaultTenant
	}
	hashing.Wait()
	rec := store.Batch{
		Ref:          store.Ref{Tenant: s.Tenant, ID: b.ID},
		Digest:       digest,
		TradeIDs:     make([]string, len(b.Trades)),
		ChunkOffsets: offsets,
		SubmittedAt:  t0.UTC(),
		Deadline:     t0.Add(timeout).UTC(),
		ResultsURL:   f.StatusURL(b.ID) + "/results",
		TraceParent:  s.TraceParent,
		Limits:       f.opt.Limits,
	}
	for i, t := range b.Trades {
		rec.TradeIDs[i] = t.ID
	}
	claim, err := f.opt.Store.Claim(ctx, rec)
	// A claim that found the batch running, which ended failed or partial
	// before its state was read (Redis reads it apart), is made again: it
	// is then the next attempt (or ErrAnnouncing, a moment before). The
	// client was told "not priced again" of a batch that had failed.
	for tries := 0; err == nil && !claim.New && store.Retryable(claim.State) && tries < 3; tries++ {
		claim, err = f.opt.Store.Claim(ctx, rec)
	}
	switch {
	case errors.Is(err, store.ErrConflict) && !ownID && s.ID != "":
		// The id is the event's source and id's: the client gave none,
		// and "submit it without one" is what it did.
		return nil, host.Errorf(http.StatusConflict, "ingress: batch id %q, given by the event's source %q and id %q, is in use by a batch of other content: send other content as a new event (a new id)", b.ID, host.Short(s.Source), host.Short(s.ID))
	case errors.Is(err, store.ErrConflict):
		return nil, host.Errorf(http.StatusConflict, "ingress: batch id %q is in use by a batch of other content: submit it under another id (or without one)", b.ID)
	case errors.Is(err, store.ErrAnnouncing):
		return nil, host.Errorf(http.StatusServiceUnavailable, "ingress: batch %s: its attempt %d ended and its end (batch.completed) is being announced: submit it again in a moment", b.ID, claim.Attempt)
	case errors.Is(err, store.ErrLimit):
		// The store's reason names the limit and its value, with no
		// "store: tenant limit reached" of the engine's insides.
		why, then := err.Error(), "try again once some have finished"
		var le *store.LimitError
		if errors.As(err, &le) {
			why = le.Reason
			if le.Limit == store.LimitOpen {
				then = "try again once one of them has finished"
			} else {
				then = "try again once some of them are priced, or split the batch into smaller ones"
			}
		}
		return nil, host.Errorf(http.StatusTooManyRequests, "ingress: %s not taken for now: %s: %s", named, why, then)
	case err != nil:
		// The store's error names its address and keys: for the log, not
		// the client.
		f.opt.Log.Error().Err(err).Str("batchid", b.ID).Str(events.ExtTraceParent, s.TraceParent).Msg("claiming a batch's id: the batch store failed")
		return nil, host.Errorf(http.StatusServiceUnavailable, "ingress: batch %s: claiming its id: the batch store is unavailable: try again in a moment", b.ID)
	}
	receipt := &Receipt{
		BatchID:    b.ID,
		Attempt:    claim.Attempt,
		Trades:     len(b.Trades),
		Chunks:     len(offsets),
		StatusURL:  f.StatusURL(b.ID),
		ResultsURL: f.StatusURL(b.ID) + "/results",
		Sample:     s.Sample,
	}
	var found *store.Summary // the batch submitted before, when the claim found one
	if !claim.New {
		if sum, err := f.opt.Store.Summary(ctx, rec.Ref); err == nil && sum.Attempt == claim.Attempt {
			found = sum
			if sum.TraceParent != "" {
				// The batch's own trace, not this submission's: every
				// log line about the batch and every event of it (its
				// chunks sent again) carries the one.
				s.TraceParent, rec.TraceParent = sum.TraceParent, sum.TraceParent
			}
		}
	}
	log := f.opt.Log.With().Str("batchid", b.ID).Int("attempt", claim.Attempt).Str(events.ExtTraceParent, s.TraceParent).Logger()
	// skip[i] says chunk i is not to be sent: nil for a new batch, all of
	// whose chunks are.
	var skip []bool
	if !claim.New {
		receipt.Existing, receipt.State = true, claim.State
		sum := f.unsent(found, claim)
		if sum == nil && len(offsets) == 0 {
			sum = f.unaccepted(found)
		}
		if sum == nil {
			log.Info().Str("state", claim.State).Msg("batch submitted again with the same content: not priced again")
			return receipt, nil
		}
		// Its ingress stopped between the claim and the end of its sends
		// (a pod killed, a rollout): the chunks with no outcome go again,
		// under the batch's own times. A chunk that had gone is priced
		// twice, and its second outcome counts as a duplicate.
		skip = make([]bool, len(sum.Chunks))
		for i, c := range sum.Chunks {
			skip[i] = c.State != store.ChunkWaiting
		}
		msg := "batch claimed but never sent in full, and its ingress silent: sending its chunks with no outcome again"
		if len(offsets) == 0 {
			msg = "batch of no chunks whose batch.accepted the aggregator never had: sending it again, for its end to be announced"
		} else if !sum.SentAt.IsZero() {
			msg = "batch sent, but no chunk outcome for long (its broker lost them?): sending its chunks with no outcome again"
		}
		log.Warn().Float64("claimedSecondsAgo", f.opt.Now().Sub(sum.SubmittedAt).Seconds()).Msg(msg)
		rec.SubmittedAt, rec.Deadline = sum.SubmittedAt, sum.Deadline
	}
	defer f.beat(ctx, rec, claim.Attempt, log)()
	receipt.TraceParent = s.TraceParent
	accepted, err := f.event(events.TypeBatchAccepted, acceptedEventID(s.Tenant, b.ID, claim.Attempt), b.ID, events.BatchAccepted{
		BatchID:      b.ID,
		Attempt:      claim.Attempt,
		Trades:       len(b.Trades),
		ChunkOffsets: append([]int{}, offsets...),
		SubmittedAt:  rec.SubmittedAt,
		Deadline:     rec.Deadline,
		ResultsURL:   rec.ResultsURL,
		Digest:       rec.Digest,
	}, s.TraceParent, s.Tenant)
	if err != nil {
		return nil, err
	}
	t2 := f.opt.Now()
	f.metrics.stage.WithLabelValues("split").Observe(t2.Sub(t1).Seconds())

	// Once the batch is claimed, its events are sent even if the client
	// goes away, until SendTimeout or the batch's deadline (past it the
	// batch has ended, and what is sent is thrown away); what cannot be
	// sent is recorded dead.
	sendFor, bound := f.opt.SendTimeout, fmt.Errorf("ingress's bound on sending a batch (%s) passed", f.opt.SendTimeout)
	if !rec.Deadline.IsZero() {
		if left := max(rec.Deadline.Sub(f.opt.Now()), 0); left < sendFor {
			// "the batch's deadline passed" tells a client (pricefn
			// submit, the console) that posting it again ends the same
			// way; not so when the chunks resent were an earlier
			// submission's, under its deadline: a post once that attempt
			// has ended starts one with a deadline of its own.
			sendFor, bound = left, errors.New("the batch's deadline passed")
			if skip != nil {
				bound = fmt.Errorf("the deadline of attempt %d, whose unsent chunks this submission sent again, passed", claim.Attempt)
			}
		}
	}
	ctx, cancel := context.WithTimeoutCause(context.WithoutCancel(ctx), sendFor, bound)
	defer cancel()
	if err := f.opt.Sender.Send(ctx, accepted); err != nil {
		log.Error().Err(err).Msg("batch.accepted not sent: batch refused")
		// The log has the broker's address; the client and the chunks'
		// reasons, which the tenant reads, do not.
		err = host.Unaddressed(err)
		if ctx.Err() != nil {
			// The time ran out, as for the chunks below: which bound (a
			// batch whose own deadline passed is not posted again by
			// pricefn submit: each post would end the same way).
			err = fmt.Errorf("%w: %w", context.Cause(ctx), err)
		}
		f.abandon(ctx, rec, claim.Attempt, 0, len(offsets), err)
		return nil, host.Errorf(http.StatusServiceUnavailable, "ingress: batch %s: telling the aggregator: %w", b.ID, err)
	}
	// The chunks' events are made a group at a time, on every core, and
	// then sent: made one by one while the first chunks were priced, the
	// last ones waited for cores behind the pricers (a 100,000-trade
	// batch's last chunk went out 50-130 ms after its first, and the batch
	// ended that much later). A group is 2*SendLimit chunks, so that the
	// events held at once stay bounded.
	group := 2 * f.opt.SendLimit
	chunkEvents := make([]event.Event, len(plan))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(f.opt.SendLimit)
	sent := make([]bool, len(offsets))
	copy(sent, skip) // not to be sent: not to be recorded unsent either
	// failed holds each chunk's own send's failure.
	failed := make([]error, len(offsets))
	var errMade error
	for first := 0; first < len(plan) && gctx.Err() == nil; first += group {
		var made errgroup.Group
		made.SetLimit(runtime.GOMAXPROCS(0))
		for i := first; i < min(first+group, len(plan)); i++ {
			if skip != nil && skip[i] {
				continue
			}
			made.Go(func() error {
				var err error
				chunkEvents[i], err = f.chunkEvent(b, claim.Attempt, i, len(offsets), plan[i], rec, s.TraceParent, s.Tenant)
				return err
			})
		}
		if errMade = made.Wait(); errMade != nil {
			log.Error().Err(errMade).Msg("chunk.requested not made")
			break
		}
		for i := first; i < min(first+group, len(plan)); i++ {
			if skip != nil && skip[i] {
				continue
			}
			lo, hi := plan[i].Lo, plan[i].Hi
			g.Go(func() error {
				e := chunkEvents[i]
				chunkEvents[i] = event.Event{} // the broker has it now
				if err := f.opt.Sender.Send(gctx, e); err != nil {
					if !errors.Is(err, context.Canceled) { // not just another chunk's failure
						log.Error().Err(err).Int("chunk", i).Msg("chunk.requested not sent")
						failed[i] = host.Unaddressed(err)
						if ctx.Err() != nil && errors.Is(err, context.DeadlineExceeded) {
							// Which time ran out (the 503's, below).
							failed[i] = fmt.Errorf("%w: %w", context.Cause(ctx), failed[i])
						}
					}
					return fmt.Errorf("chunk %d: %w", i, host.Unaddressed(err))
				}
				sent[i] = true
				f.metrics.chunks.WithLabelValues("sent").Inc()
				log.Debug().Int("chunk", i).Int("trades", hi-lo).Msg("chunk sent")
				return nil
			})
		}
	}
	err = cmp.Or(g.Wait(), errMade)
	if err == nil && slices.Contains(sent, false) {
		// The time ran out between two groups: the chunks not made are
		// not sent, which is no send's error (they were recorded sent).
		err = cmp.Or(gctx.Err(), ctx.Err(), errors.New("chunks not sent"))
	}
	if err != nil {
		if ctx.Err() != nil {
			// The time ran out: which bound, the batch's deadline or
			// ingress's, not a bare "context deadline exceeded".
			err = fmt.Errorf("%w: %w", context.Cause(ctx), err)
		}
		// A chunk whose own send failed is recorded with its failure;
		// the others with the failure that stopped the batch's sends,
		// said to be that (a chunk's reason named another chunk's).
		stopped := fmt.Errorf("the batch's sends stopped: %w", err)
		unsent := 0
		for i := range offsets {
			if !sent[i] {
				unsent++
				f.abandon(ctx, rec, claim.Attempt, i, i+1, cmp.Or(failed[i], stopped))
			}
		}
		return nil, host.Errorf(http.StatusServiceUnavailable, "ingress: batch %s: sending chunks: %d of %d not sent, recorded dead (the batch ends without them; submit it again to price them): %w", b.ID, unsent, len(offsets), err)
	}
	// Its own time, as abandon's: the send's may have run out.
	sentCtx, sentCancel := context.WithTimeout(context.WithoutCancel(ctx), abandonTimeout)
	if err := f.opt.Store.Sent(sentCtx, rec.Ref, rec.Digest, claim.Attempt, f.opt.Now().UTC()); err != nil {
		// The batch goes on; a resubmission once this ingress has fallen
		// silent would send its chunks with no outcome again.
		log.Error().Err(err).Msg("recording the batch sent failed")
	}
	sentCancel()
	f.metrics.stage.WithLabelValues("send").Observe(f.opt.Now().Sub(t2).Seconds())
	f.metrics.trades.Add(float64(len(b.Trades)))
	log.Info().Int("trades", len(b.Trades)).Int("chunks", len(offsets)).
		Float64("seconds", f.opt.Now().Sub(t0).Seconds()).Msg("batch accepted")
	return receipt, nil
}

// unsent returns the summary of the unfinished batch claim found when its
// chunks with no outcome are to be sent again: its ingress stopped before
// it had sent every chunk (never recorded Sent, and no sign of life from
// its ingress, the claim or Store.Sending, for ResendAfter), or its chunks
// were lost after they were sent (no outcome, nor send, for StallAfter).
// Otherwise, or when the store could not say (sum is nil), nil. Two such
// resubmissions at once may both send: a chunk priced twice counts once.
func (f *Function) unsent(sum *store.Summary, c store.Claim) *store.Summary {
	if c.State != store.StatePending && c.State != store.StateRunning {
		return nil
	}
	if sum == nil || sum.Attempt != c.Attempt || sum.Done() {
		return nil
	}
	if f.pastDeadline(sum) {
		return nil
	}
	alive := sum.SubmittedAt
	for _, t := range []time.Time{sum.SendingAt, sum.SentAt} {
		if t.After(alive) {
			alive = t
		}
	}
	silent := f.opt.ResendAfter
	if !sum.SentAt.IsZero() {
		if f.opt.StallAfter <= 0 {
			return nil
		}
		for i := range sum.Chunks {
			if t := sum.Chunks[i].ArrivedAt; t.After(alive) {
				alive = t
			}
		}
		silent = f.opt.StallAfter
	}
	if f.opt.Now().Sub(alive) < silent {
		return nil
	}
	return sum
}

// unaccepted returns sum, the batch of no chunks the claim found (of its
// attempt; nil when the store could not say), when its batch.accepted is to
// be sent again: the aggregator never had it (no acceptedAt) and no
// ingress recorded it sent. Such a batch ends at its claim, and the
// aggregator announces its end (batch.completed) when its batch.accepted
// comes, as nothing else of it will: an ingress that could not send it (a
// broker down: the submission was a 503) left a batch completed and never
// announced, whatever its resubmissions. Past its deadline the
// aggregator's sweep announces it, and nothing is sent. Otherwise nil. A
// batch.accepted sent twice is counted once.
func (f *Function) unaccepted(sum *store.Summary) *store.Summary {
	if sum == nil || len(sum.Chunks) > 0 || !sum.AcceptedAt.IsZero() || !sum.SentAt.IsZero() || f.pastDeadline(sum) {
		return nil
	}
	return sum
}

// pastDeadline reports whether sum's batch is past its deadline: the
// aggregator ends it (or, of no chunks, announces it), and what would be
// sent now would be thrown away, with no time left to send it in.
func (f *Function) pastDeadline(sum *store.Summary) bool {
	return !sum.Deadline.IsZero() && !f.opt.Now().Before(sum.Deadline)
}

// beat gives the sign of life of this ingress while it sends attempt's
// chunks (Store.Sending): at once, then every ResendAfter/3 until stop is
// called, so that a resubmission meanwhile does not send them again,
// however long a busy broker keeps it. The first is at once: silence is
// counted from SubmittedAt, when the request began, and reading and
// claiming a large batch can take much of ResendAfter.
func (f *Function) beat(ctx context.Context, rec store.Batch, attempt int, log zerolog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	if err := f.opt.Store.Sending(ctx, rec.Ref, rec.Digest, attempt, f.opt.Now().UTC()); err != nil {
		log.Warn().Err(err).Msg("recording a sign of life while sending failed")
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(f.opt.ResendAfter / 3)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if err := f.opt.Store.Sending(ctx, rec.Ref, rec.Digest, attempt, f.opt.Now().UTC()); err != nil && ctx.Err() == nil {
				log.Warn().Err(err).Msg("recording a sign of life while sending failed")
			}
		}
	}()
	return func() { cancel(); <-done }
}

// abandon records chunks [lo, hi) of attempt as dead: they could not be
// sent, so the batch ends partial as soon as the rest has an outcome, and
// the client's resubmission prices it again.
func (f *Function) abandon(ctx context.Context, rec store.Batch, attempt, lo, hi int, why error) {
	// Its own time: the send's context has often run out (a broker that
	// answered 429 until sendTimeout), and a record not written leaves
	// the batch pending, its resubmission told it exists, until its
	// deadline.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abandonTimeout)
	defer cancel()
	for i := lo; i < hi; i++ {
		f.metrics.chunks.WithLabelValues("unsent").Inc()
		c := store.Chunk{Index: i, State: store.ChunkDead, Reason: "not sent to the broker: " + why.Error(), ArrivedAt: f.opt.Now().UTC()}
		upd, err := f.opt.Store.Put(ctx, rec.Ref, rec.Digest, attempt, c)
		if err != nil {
			f.opt.Log.Error().Err(err).Str("batchid", rec.ID).Int("chunk", i).Str(events.ExtTraceParent, rec.TraceParent).Msg("recording an unsent chunk failed")
			continue
		}
		if upd.Announce {
			// This record ended the batch, and the claim to announce it
			// is ingress's, which sends no batch.completed: given back,
			// an aggregator's deadline sweep announces it.
			if err := f.opt.Store.Release(ctx, rec.Ref, attempt, upd.AnnounceBy); err != nil {
				f.opt.Log.Error().Err(err).Str("batchid", rec.ID).Str(events.ExtTraceParent, rec.TraceParent).Msg("giving back the claim to announce the batch's end failed")
			}
		}
	}
}

// Deadline defaults.
const (
	// DeadlineBase is the part of the default deadline that covers the
	// broker's delivery retries (a pricer restart: see
	// knative/triggers.yaml) and queueing.
	DeadlineBase = 5 * time.Minute
	// MinDeadline and MaxDeadline bound a batch's own deadline.
	MinDeadline = batch.MinDeadline
	MaxDeadline = batch.MaxDeadline
)

// DefaultDeadline is the deadline of a batch whose estimated pricing time
// on one core is costNS nanoseconds (batch.Job.TotalCost): DeadlineBase
// plus twice the cost, so that one pricer on one core finishes it in time
// with a margin for the estimate, and at most MaxDeadline, the longest a
// batch may ask for itself. (A batch of costly Monte Carlo trades under
// 10,000 scenarios can be estimated at centuries, past what a
// time.Duration holds.)
func DefaultDeadline(costNS float64) time.Duration {
	if !(costNS < float64(MaxDeadline-DeadlineBase)/2) { // NaN too
		return MaxDeadline
	}
	return DeadlineBase + 2*time.Duration(max(costNS, 0))
}

// timeout reads the batch's own deadline ("90s"), or the configured
// BatchTimeout; 0 asks for the default.
func (f *Function) timeout(b *batch.Batch) (time.Duration, error) {
	if b.Deadline == "" {
		return f.opt.BatchTimeout, nil
	}
	d, err := batch.ParseDeadline(b.Deadline)
	if err != nil {
		return 0, host.Errorf(http.StatusBadRequest, "ingress: batch %s: %w", b.ID, err)
	}
	return d, nil
}

// envelopeField reports whether err is a batch document's unknown field
// that is a structured CloudEvent's attribute.
func envelopeField(err error) bool {
	var be *batch.Error
	if !errors.As(err, &be) || be.Field != "" {
		return false
	}
	for _, a := range []string{"specversion", "source", "type", "datacontenttype", "data", "data_base64"} {
		if be.Reason == fmt.Sprintf("unknown field %q", a) {
			return true
		}
	}
	return false
}

// StatusURL returns where the status of batch id is served.
func (f *Function) StatusURL(id string) string { return f.opt.PublicURL + "/batches/" + id }

// batchID picks the batch's id: its own, else its event's batchid, else one
// derived from its event's source and id, else a fresh one. A batch and
// its event that name two ids are refused: the batchid the sender put on
// its event would not name the batch.
func (f *Function) batchID(own string, s Submission) (string, error) {
	if own != "" && s.BatchID != "" && own != s.BatchID {
		return "", host.Errorf(http.StatusBadRequest, "ingress: the batch's id %q and its event's batchid %q differ: give one of them, or the same", host.Short(own), host.Short(s.BatchID))
	}
	id := own
	if id == "" {
		id = s.BatchID
	}
	if id != "" {
		if err := batch.CheckBatchID(id); err != nil {
			var be *batch.Error
			if own == "" && errors.As(err, &be) {
				// The event's, not the document's: "batch: id:" named an
				// id the document does not have.
				return "", host.Errorf(http.StatusBadRequest, "ingress: the event's batchid extension: %s", be.Reason)
			}
			return "", host.Errorf(http.StatusBadRequest, "ingress: %w", err)
		}
		return id, nil
	}
	if s.ID != "" {
		sum := sha256.Sum256([]byte(s.Source + "\x00" + s.ID))
		return "b-" + hex.EncodeToString(sum[:8]), nil
	}
	return f.opt.NewID(), nil
}

// acceptedEventID is the id of attempt's batch.accepted event of tenant's
// batch id.
func acceptedEventID(tenant, id string, attempt int) string {
	base := events.EventIDBase(tenant, id)
	if attempt <= 1 {
		return base + "/accepted"
	}
	return fmt.Sprintf("%s/a%d/accepted", base, attempt)
}

// chunkEvent builds the chunk.requested event of chunk spec of b.
func (f *Function) chunkEvent(b *batch.Batch, attempt, index, chunks int, spec batch.ChunkSpec, rec store.Batch, traceparent, tenant string) (event.Event, error) {
	c := events.ChunkRequested{
		BatchID:     b.ID,
		Attempt:     attempt,
		Index:       index,
		Chunks:      chunks,
		Offset:      spec.Lo,
		Batch:       *b.ChunkOf(spec),
		RequestedAt: f.opt.Now().UTC(),
		Digest:      rec.Digest,
		Scenarios:   b.ScenarioBlockOf(spec),
		Deadline:    rec.Deadline,
	}
	return f.event(events.TypeChunkRequested, ChunkEventID(tenant, b.ID, attempt, index), b.ID, c, traceparent, tenant)
}

// ChunkEventID is the id of the chunk.requested event of chunk index of
// attempt of tenant's batch: the same for every send of that chunk, so
// that a receiver detects duplicates by source and id, and another for
// each attempt and for another tenant's batch of the same id
// (events.EventIDBase).
func ChunkEventID(tenant, batchID string, attempt, index int) string {
	base := events.EventIDBase(tenant, batchID)
	if attempt <= 1 {
		return fmt.Sprintf("%s/chunk/%d", base, index)
	}
	return fmt.Sprintf("%s/a%d/chunk/%d", base, attempt, index)
}

func (f *Function) event(typ, id, batchID string, data any, traceparent, tenant string) (event.Event, error) {
	e, err := events.New(typ, f.opt.Source, id, batchID, data)
	if err != nil {
		return e, fmt.Errorf("ingress: %w", err)
	}
	e.SetExtension(events.ExtTenant, tenant)
	if traceparent != "" {
		e.SetExtension(events.ExtTraceParent, traceparent)
	}
	return e, nil
}
