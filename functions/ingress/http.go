package ingress

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/rs/zerolog"

	"github.com/pricefn/pricefn/batch"
	"github.com/pricefn/pricefn/events"
	"github.com/pricefn/pricefn/functions/host"
)

// Routes returns ingress's public routes, the ones the gateway of pricefn
// dev and the public API serve, each behind a token with the submit scope
// when guard has tokens (nil admits everything):
//
//	POST /            a batch.submitted CloudEvent, binary or structured
//	POST /batches     a plain batch JSON body, or a CloudEvent
//	GET  /valQuery    ?metric=FwdRate|NPV|OptionPV&numTrades=N: a sample batch
//
// Both POSTs take either form: a request without CloudEvent headers is a
// plain batch. Each route answers 202 with a Receipt and a Location header
// naming the status URL, or an error status with {"error": "..."}: 400 for
// a batch that cannot be priced, 503 when the broker does not take its
// events, 413 for a body over Options.MaxBatchBytes. A request that says
// "Prefer: reply", as brokers do, gets an empty 202: a broker takes a body
// for a reply event.
//
// Another query parameter of /valQuery, or one given twice, is a 400
// (host.CheckParams); the POSTs take none.
//
// A request a browser sends for a page of another origin is a 403
// (host.SameOrigin), measured with the route's other answers.
func (f *Function) Routes(guard host.Guard) http.Handler {
	mux := host.NewMux()
	mux.Handle("POST /{$}", f.metrics.requests.Track(routeSubmit, host.SameOrigin(host.Required(guard, host.ScopeSubmit, http.HandlerFunc(f.serveEvent)))))
	mux.Handle("POST /batches", f.metrics.requests.Track(routeSubmit, host.SameOrigin(host.Required(guard, host.ScopeSubmit, http.HandlerFunc(f.serveEvent)))))
	mux.Handle("GET /valQuery", f.metrics.requests.Track(routeValQuery, host.SameOrigin(host.Required(guard, host.ScopeSubmit, http.HandlerFunc(f.serveValQuery)))))
	return mux
}

// ServiceRoutes returns the routes of ingress's own Service, where the
// broker delivers batch.submitted events from upstream systems: POST / is
// the event receiver (each event signed with a key of its tenant's when
// guard has keys), and POST /batches and GET /valQuery are the public
// routes of Routes.
func (f *Function) ServiceRoutes(log zerolog.Logger, guard host.Guard) http.Handler {
	mux := host.NewMux()
	mux.Handle("POST /{$}", host.Events(host.Guarded(guard, f), log))
	public := f.Routes(guard)
	mux.Handle("POST /batches", public)
	mux.Handle("GET /valQuery", public)
	return mux
}

// serveEvent takes a CloudEvent; a request without CloudEvent headers is
// taken as a plain batch, as on POST /batches.
func (f *Function) serveEvent(w http.ResponseWriter, r *http.Request) {
	// The batch says all a submission has to say: a query parameter
	// (?id=mine, ?wait=30s) was ignored, the batch given a new id, the
	// receipt answered at once.
	if err := host.CheckParams(r.URL, "ingress", "POST "+r.URL.Path); err != nil {
		f.refuse(w, err)
		return
	}
	if !host.IsBinary(r) && !host.IsStructured(r) {
		f.servePlain(w, r)
		return
	}
	if err := checkEncoding(r, "CloudEvent"); err != nil {
		f.refuse(w, err)
		return
	}
	// A binary-mode event's body is its data: digested as it arrives.
	var dr *digestingBody
	if host.IsBinary(r) && !host.IsStructured(r) {
		dr = newDigestingBody(r)
	}
	// The body is done with once the batch is split and sent (Submit
	// keeps nothing of it): a pooled buffer.
	e, release, err := host.ReadEvent(w, r, f.opt.MaxBatchBytes)
	defer release()
	if err != nil {
		f.refuse(w, err)
		return
	}
	done, err := f.admit(r.Context(), len(e.Data()))
	if err != nil {
		return // the client left while the batch waited its turn
	}
	defer done()
	s, err := SubmissionOf(*e)
	if err != nil {
		f.refuse(w, err)
		return
	}
	s.digest = dr.digest(len(s.Data))
	if s.TraceParent == "" {
		s.TraceParent = r.Header.Get("traceparent")
	}
	s.Tenant = host.TenantOf(r.Context())
	f.submit(w, r, s)
}

// plainTypes are the media types a plain batch may be sent as: JSON, and
// what curl --data sends by default.
var plainTypes = map[string]bool{"": true, "application/json": true, "text/json": true, "text/plain": true, "application/x-www-form-urlencoded": true}

// checkEncoding refuses a compressed body with a 415: read as it came, a
// gzip-encoded batch or CloudEvent was "malformed JSON at byte 0".
func checkEncoding(r *http.Request, want string) error {
	if ce := r.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		return host.Errorf(http.StatusUnsupportedMediaType, "ingress: the body is %s-encoded: send the %s uncompressed", host.Short(ce), want)
	}
	return nil
}

// checkPlain refuses a body that cannot be a JSON batch: another media
// type (multipart, XML) or a compressed one, with a 415 naming what is
// accepted.
func checkPlain(r *http.Request) error {
	if err := checkEncoding(r, "batch (application/json)"); err != nil {
		return err
	}
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if ct != "" && err != nil {
		return host.Errorf(http.StatusUnsupportedMediaType, "ingress: Content-Type %q is malformed: want application/json", host.Short(ct))
	}
	if !plainTypes[mt] && !strings.HasSuffix(mt, "+json") {
		return host.Errorf(http.StatusUnsupportedMediaType, "ingress: Content-Type %s: want a JSON batch (application/json) or a CloudEvent (ce-* headers, or application/cloudevents+json)", host.Short(mt))
	}
	return nil
}

// servePlain takes a plain batch JSON body.
func (f *Function) servePlain(w http.ResponseWriter, r *http.Request) {
	if err := checkPlain(r); err != nil {
		f.refuse(w, err)
		return
	}
	if err := host.LimitBody(w, r, f.opt.MaxBatchBytes); err != nil {
		f.refuse(w, err)
		return
	}
	// The buffer grows with the bytes that arrive, never from a declared
	// Content-Length alone: a client that announces 32 MB and sends
	// nothing must not make the server hold 32 MB per connection. The
	// declared size only chooses among the buffers kept from earlier
	// batches.
	dr := newDigestingBody(r)
	body, release, err := events.ReadDataDeclared(r.Body, r.ContentLength)
	if release != nil {
		defer release() // Submit keeps nothing of the body
	}
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			f.refuse(w, host.TooLarge(tooBig.Limit))
			return
		}
		f.refuse(w, host.Errorf(http.StatusBadRequest, "ingress: reading the batch: %w", err))
		return
	}
	done, err := f.admit(r.Context(), len(body))
	if err != nil {
		return // the client left while the batch waited its turn
	}
	defer done()
	f.submit(w, r, Submission{Data: body, TraceParent: r.Header.Get("traceparent"), Tenant: host.TenantOf(r.Context()), digest: dr.digest(len(body))})
}

// valQueryKinds maps the seed's metric names to the sample trades they
// submit.
var valQueryKinds = map[string]string{
	"FwdRate":  "fra",
	"NPV":      "swap",
	"OptionPV": batch.SampleSeedPut,
}

// valQuerySamples describes, in the answer, the trades a metric submits.
var valQuerySamples = map[string]string{
	batch.SampleSeedPut: batch.SampleSeedPutTerms,
}

// maxValQueryTrades bounds numTrades of /valQuery: the sample batch is
// built in memory, about valQueryTradeBytes a trade, and must stay within
// DefaultMaxBodyBytes like a submitted one.
const maxValQueryTrades = 100_000

// valQueryTradeBytes is about the size of one trade of a /valQuery sample:
// the room (Options.MaxBytesReading) its batch takes while it is built and
// decoded, as a submitted batch of that size does.
const valQueryTradeBytes = 200

// serveValQuery keeps the seed's load script working: it submits
// numTrades sample trades of the metric's kind.
func (f *Function) serveValQuery(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodHead {
		// A GET route takes HEAD too, and a HEAD must not submit a batch.
		w.Header().Set("Allow", http.MethodGet)
		host.WriteError(w, host.Errorf(http.StatusMethodNotAllowed, "ingress: valQuery submits a batch: GET it"))
		return
	}
	if err := host.CheckParams(r.URL, "ingress", "GET /valQuery", "metric", "numTrades"); err != nil {
		host.WriteError(w, err)
		return
	}
	q := r.URL.Query()
	kind, ok := valQueryKinds[q.Get("metric")]
	if !ok {
		host.WriteError(w, host.Errorf(http.StatusBadRequest, "ingress: valQuery: metric %q: want FwdRate, NPV or OptionPV", host.Short(q.Get("metric"))))
		return
	}
	n := 1
	// An empty one (?numTrades=) is refused: it was taken for one trade.
	if v := q.Get("numTrades"); q.Has("numTrades") {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 || n > maxValQueryTrades {
			host.WriteError(w, host.Errorf(http.StatusBadRequest, "ingress: valQuery: numTrades %q: want 1 to %d", host.Short(v), maxValQueryTrades))
			return
		}
	}
	// The room first: thirty samples of 100,000 trades built and decoded
	// at once, none waiting its turn, took 1.4 GB where as many uploads
	// of that size took 0.8.
	done, err := f.admit(r.Context(), n*valQueryTradeBytes)
	if err != nil {
		return // the client left while the batch waited its turn
	}
	defer done()
	data, err := batch.Sample(batch.SampleSpec{Type: kind, N: n})
	if err != nil {
		host.WriteError(w, fmt.Errorf("ingress: valQuery: %w", err))
		return
	}
	if int64(len(data)) > f.opt.MaxBatchBytes {
		host.WriteError(w, host.Errorf(http.StatusRequestEntityTooLarge, "ingress: valQuery: %d trades make a batch of %d bytes, over the limit of %d", n, len(data), f.opt.MaxBatchBytes))
		return
	}
	f.submit(w, r, Submission{Data: data, TraceParent: r.Header.Get("traceparent"), Tenant: host.TenantOf(r.Context()), Sample: valQuerySamples[kind]})
}

// admit waits for the room of a batch of size bytes, read, among those
// being decoded (Options.MaxBytesReading), and holds it until done is
// called; it fails only when ctx ends first (its client left). A batch
// larger than the bound is decoded alone. Six 113 MB uploads decoded at once took 2.7
// GB where one takes 0.8. The room is taken once the body is read: taken
// before, for its declared size, one client sending a few bytes and
// waiting held it until the read timeout, and every other submission was
// refused.
func (f *Function) admit(ctx context.Context, size int) (done func(), err error) {
	if f.reading == nil {
		return func() {}, nil
	}
	n := min(max(int64(size), 1), f.opt.MaxBytesReading)
	if err := f.reading.Acquire(ctx, n); err != nil {
		return nil, err
	}
	return func() { f.reading.Release(n) }, nil
}

// refuse answers err, which refused a submission before it could be read
// as a batch (an event or body that cannot carry one, one too large), and
// counts it as Submit counts its own refusals, and as a malformed request
// when it is a 4xx other than 413.
func (f *Function) refuse(w http.ResponseWriter, err error) {
	f.metrics.submitted(nil, err)
	if code := host.Status(err); code >= 400 && code < 500 && code != http.StatusRequestEntityTooLarge {
		f.metrics.rejected.WithLabelValues(rejectMalformed).Inc()
	}
	host.WriteError(w, err)
}

func (f *Function) submit(w http.ResponseWriter, r *http.Request, s Submission) {
	s.logRefusal = true
	rc, err := f.Submit(r.Context(), s)
	if err != nil {
		if host.Status(err) == http.StatusBadRequest {
			f.metrics.rejected.WithLabelValues(rejectInvalidBatch).Inc()
		}
		switch code := host.Status(err); {
		case code == http.StatusTooManyRequests:
			w.Header().Set("Retry-After", "5")
		case code >= 500:
			w.Header().Set("Retry-After", "1")
		}
		host.WriteError(w, err)
		return
	}
	w.Header().Set("Location", rc.StatusURL)
	if r.Header.Get("Prefer") == "reply" {
		w.WriteHeader(http.StatusAccepted)
		return
	}
	host.WriteJSON(w, http.StatusAccepted, rc)
}
