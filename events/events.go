// Package events defines pricefn's CloudEvents (shared/spec/wire-format.md
// section 3): their types, the batchid extension, the payload of each type,
// and typed constructors and decoders built on the CloudEvents Go SDK v2.
// Subpackage broker is a local, single-process stand-in for a Knative broker.
package events

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/pricefn/pricefn/batch"
)

// The event types of the pipeline.
const (
	// TypeBatchSubmitted carries a client's batch (batch.Batch) to ingress.
	TypeBatchSubmitted = "io.pricefn.batch.submitted"
	// TypeBatchAccepted tells the aggregator a batch exists (BatchAccepted),
	// so its status is known before the first chunk is priced.
	TypeBatchAccepted = "io.pricefn.batch.accepted"
	// TypeChunkRequested asks a pricer to price one chunk (ChunkRequested).
	TypeChunkRequested = "io.pricefn.chunk.requested"
	// TypeChunkPriced is the pricer's reply with a chunk's results (ChunkPriced).
	TypeChunkPriced = "io.pricefn.chunk.priced"
	// TypeBatchCompleted announces the end of a batch (BatchCompleted).
	TypeBatchCompleted = "io.pricefn.batch.completed"
)

// ExtBatchID is the CloudEvents extension attribute that carries the batch
// id on every event of a batch.
const ExtBatchID = "batchid"

// ExtTenant is the CloudEvents extension attribute that names the tenant
// a batch belongs to, on every event of the batch (signed with the rest,
// package auth).
const ExtTenant = "pricefntenant"

// DefaultTenant is the tenant of events that name none: an engine that
// runs without tokens.
const DefaultTenant = "_"

// EventIDBase is what the ids of a batch's events start with: the batch
// id, and for a tenant other than DefaultTenant "@" and the tenant. Batch
// ids are scoped by tenant, so two tenants' batches may share one; their
// events must still differ in source and id, as CloudEvents wants of
// distinct events, or a consumer that deduplicates by them takes one
// tenant's for a repeat of the other's. Neither a batch id nor a tenant
// holds '@', so no two batches' bases are alike.
func EventIDBase(tenant, batchID string) string {
	if tenant == "" || tenant == DefaultTenant {
		return batchID
	}
	return batchID + "@" + tenant
}

// ChunkIndex returns the index of the chunk a chunk.requested or
// chunk.priced event is about, as its id names it: ingress gives a chunk's
// event the id "{base}/chunk/{i}", "{base}/a{n}/chunk/{i}" for attempt
// n > 1 (base as EventIDBase, which holds no '/'), and the pricer its reply
// that id and "/priced". It returns false for an event of another type or
// an id not made so.
func ChunkIndex(e event.Event) (int, bool) {
	id := e.ID()
	switch e.Type() {
	case TypeChunkRequested:
	case TypeChunkPriced:
		var ok bool
		if id, ok = strings.CutSuffix(id, "/priced"); !ok {
			return 0, false
		}
	default:
		return 0, false
	}
	i := strings.LastIndex(id, "/chunk/")
	if i < 0 {
		return 0, false
	}
	s := id[i+len("/chunk/"):]
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || strconv.Itoa(n) != s {
		return 0, false
	}
	return n, true
}

// ExtTraceParent is the W3C trace context extension, propagated when present.
const ExtTraceParent = "traceparent"

// BatchAccepted is the data of TypeBatchAccepted. It is compact, whatever
// the batch's size: the trade ids are recorded once, by ingress, in the
// shared store, not carried here.
type BatchAccepted struct {
	BatchID string `json:"batchId"`
	// Attempt numbers the submissions of the batch id, from 1: a batch that
	// ended failed or partial is priced again as the next attempt.
	Attempt int `json:"attempt"`
	// Trades counts the trades.
	Trades int `json:"trades"`
	// ChunkOffsets[i] is the index of chunk i's first trade; chunk i holds
	// the trades up to the next chunk's offset.
	ChunkOffsets []int     `json:"chunkOffsets"`
	SubmittedAt  time.Time `json:"submittedAt"`
	// Deadline is when the batch ends partial if chunks are still missing.
	Deadline time.Time `json:"deadline,omitzero"`
	// ResultsURL is where the results will be served, when known.
	ResultsURL string `json:"resultsUrl,omitempty"`
	// Digest identifies the submission (see Digest).
	Digest string `json:"digest,omitempty"`
}

// Digest returns the digest of a batch document as submitted: "sha256:"
// and the hex SHA-256 of its bytes. Ingress puts it on every event of the
// batch, so that the aggregator can tell a redelivery (same id, same
// digest) from another batch submitted under an id already used (same
// id, other digest), whose events it must not mix with the first one's.
func Digest(doc []byte) string {
	sum := sha256.Sum256(doc)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// ChunkRequested is the data of TypeChunkRequested: a self-contained batch
// (only the market data its trades use) and where it sits in its parent.
type ChunkRequested struct {
	BatchID string `json:"batchId"`
	// Attempt is the batch's attempt (BatchAccepted.Attempt).
	Attempt int `json:"attempt,omitempty"`
	Index   int `json:"index"`
	Chunks  int `json:"chunks"`
	// Offset is the index of the chunk's first trade in the whole batch.
	Offset int `json:"offset"`
	// Batch is the chunk. It is encoded by concatenating the JSON its
	// trades came in, and decoded by batch.DecodeBytes (bulk.go).
	Batch       batch.Batch `json:"batch,omitzero"`
	RequestedAt time.Time   `json:"requestedAt"`
	// Digest is the batch's BatchAccepted.Digest; the pricer returns it
	// in ChunkPriced.
	Digest string `json:"digest,omitempty"`
	// Scenarios, set on a scenario chunk (batch.ChunkSpec), places the
	// scenarios Batch carries among the batch's: the pricer returns their
	// sums (ChunkPriced.Scenarios), not the trades' results. Offset is
	// the trades' offset all the same.
	Scenarios *batch.ScenarioBlock `json:"scenarios,omitempty"`
	// Deadline is when the batch's attempt ends with the chunks that have
	// no outcome dead (store.Batch.Deadline); zero for none. A pricer
	// skips a chunk long past it: its outcome would be ignored, and its
	// pricing would hold up the chunks of live batches (a resubmission's).
	Deadline time.Time `json:"deadline,omitzero"`
}

// ChunkPriced is the data of TypeChunkPriced.
type ChunkPriced struct {
	BatchID string `json:"batchId"`
	// Attempt is ChunkRequested.Attempt.
	Attempt int `json:"attempt,omitempty"`
	Index   int `json:"index"`
	Chunks  int `json:"chunks"`
	Offset  int `json:"offset"`
	// Results holds one result per trade of the chunk, in chunk order: a
	// JSON array as batch.AppendResultsArray writes it (SetResults). The
	// aggregator checks it with batch.ScanResults and keeps its bytes.
	Results json.RawMessage `json:"results,omitempty"`
	// TotalPartials are the chunk's sums of its results' measures, overall
	// (key "") and per underlying, exact: each the partials of its value
	// (batch.ChunkTotaler.Partials), which the aggregator adds up for the
	// batch's totals, the same to the last bit however the batch was cut
	// into chunks.
	TotalPartials map[string]map[string][]float64 `json:"totalPartials,omitempty"`
	// Totals are the same sums rounded, as a pricer of an earlier release
	// sends them instead (it sends no TotalPartials).
	Totals      map[string]map[string]float64 `json:"totals,omitempty"`
	RequestedAt time.Time                     `json:"requestedAt"`
	StartedAt   time.Time                     `json:"startedAt"`
	FinishedAt  time.Time                     `json:"finishedAt"`
	// PricedBy names the pricer instance (K_SERVICE, host name).
	PricedBy string `json:"pricedBy,omitempty"`
	// Digest is ChunkRequested.Digest.
	Digest string `json:"digest,omitempty"`
	// Scenarios holds a scenario chunk's exact sums per scenario; its
	// Results are then empty.
	Scenarios *batch.ScenarioPartials `json:"scenarios,omitempty"`

	// scan is the check of scanned, the Results decoded.
	scan    batch.ResultsScan
	scanned json.RawMessage
	// room is the buffer SetResults encoded Results in, after
	// resultsHeadRoom bytes for the event data's other members.
	room *resultsRoom
}

// resultsRoom is a buffer of results with room before them, which the
// data of one event is made in (appendData): the first event made from a
// ChunkPriced; any other copies its results.
type resultsRoom struct {
	buf  []byte
	used bool
}

// resultsHeadRoom is the room SetResults leaves before the results for
// the members that come before them in the event's data (a chunk's
// totals, some 350 bytes an underlying, its times and digest): the data
// is then made around the results rather than from a copy of them
// (appendData), for chunks of up to some twenty underlyings.
const resultsHeadRoom = 8192

// ScanResults checks the chunk's Results as batch.ScanResults does: a
// chunk decoded from an event's data was checked in the same pass, and
// that check is returned while Results is the slice decoded (set Results
// anew rather than change its bytes in place).
func (c *ChunkPriced) ScanResults() (batch.ResultsScan, error) {
	if len(c.scanned) > 0 && len(c.Results) == len(c.scanned) && &c.Results[0] == &c.scanned[0] {
		return c.scan, nil
	}
	return batch.ScanResults(c.Results)
}

// SetResults sets the chunk's Results to rs, encoded, and its
// TotalPartials to their sums; underlyings[k] is the underlying of result k
// (batch.Batch.Underlyings).
func (c *ChunkPriced) SetResults(rs []batch.TradeResult, underlyings []string) error {
	buf, err := batch.AppendResultsArray(NewResultsBuffer(batch.ResultsSize(rs)), rs)
	if err != nil {
		return fmt.Errorf("events: chunk %d of batch %s: %w", c.Index, c.BatchID, err)
	}
	var totals batch.ChunkTotaler
	totals.Add(rs, underlyings)
	c.SetEncodedResults(buf, &totals)
	return nil
}

// NewResultsBuffer returns a buffer for a chunk's results array of about
// size bytes (batch.AppendResultsArray's form; batch.ResultsSize
// estimates it) for SetEncodedResults: it is empty but for the room left
// before the results. Its size matters: the data of an event made in this
// process travels as it is, and a store may keep it (store.Chunk.Given).
func NewResultsBuffer(size int) []byte {
	return make([]byte, resultsHeadRoom, resultsHeadRoom+size+1)
}

// SetEncodedResults sets the chunk's results to the array appended to buf,
// a NewResultsBuffer, and their TotalPartials from totals, which summed
// them: the event's data is made around the results, not from a copy. buf
// is the chunk's from then on.
func (c *ChunkPriced) SetEncodedResults(buf []byte, totals *batch.ChunkTotaler) {
	// Results' capacity ends with it: the byte after it is the data's
	// closing brace (appendData), which an append must not overwrite.
	c.Results, c.room = buf[resultsHeadRoom:len(buf):len(buf)], &resultsRoom{buf: buf}
	c.TotalPartials = totals.Partials()
}

// DecodeResults decodes the chunk's Results.
func (c *ChunkPriced) DecodeResults() ([]batch.TradeResult, error) {
	var rs []batch.TradeResult
	if err := json.Unmarshal(c.Results, &rs); err != nil {
		return nil, fmt.Errorf("events: results of chunk %d of batch %s: %w", c.Index, c.BatchID, err)
	}
	return rs, nil
}

// BatchCompleted is the data of TypeBatchCompleted.
type BatchCompleted struct {
	BatchID    string `json:"batchId"`
	Attempt    int    `json:"attempt,omitempty"`
	State      string `json:"state"`
	Trades     int    `json:"trades"`
	Priced     int    `json:"priced"`
	Failed     int    `json:"failed"`
	Missing    int    `json:"missing"`
	Chunks     int    `json:"chunks"`
	ChunksDone int    `json:"chunksDone"`
	// MissingTradeIDs names the trades no chunk delivered (state partial),
	// the first 1,000 of them (aggregator.MaxMissingIDs): Missing counts
	// them all, and the results carry each one's error.
	MissingTradeIDs []string  `json:"missingTradeIds,omitempty"`
	ResultsURL      string    `json:"resultsUrl,omitempty"`
	SubmittedAt     time.Time `json:"submittedAt"`
	CompletedAt     time.Time `json:"completedAt"`
	DurationSeconds float64   `json:"durationSeconds"`
}

// New returns an event of type typ from source with the given id, the
// batchid extension set to batchID (when not empty) and data encoded as
// application/json.
func New(typ, source, id, batchID string, data any) (event.Event, error) {
	e := cloudevents.NewEvent()
	e.SetType(typ)
	e.SetSource(source)
	e.SetID(id)
	if batchID != "" {
		e.SetExtension(ExtBatchID, batchID)
	}
	if b, ok := data.(bulkData); ok {
		// Encoded data: SetData keeps bytes as they are.
		enc, err := b.appendData(nil)
		if err != nil {
			return event.Event{}, fmt.Errorf("events: encode %s data: %w", typ, err)
		}
		data = enc
	}
	if err := e.SetData(cloudevents.ApplicationJSON, data); err != nil {
		return event.Event{}, fmt.Errorf("events: encode %s data: %w", typ, err)
	}
	if err := e.Validate(); err != nil {
		return event.Event{}, fmt.Errorf("events: %s event: %w", typ, err)
	}
	return e, nil
}

// JSONContent reports whether ct, an event's datacontenttype, says its
// data is JSON: absent, or application/json or text/json, whatever the
// case of its letters and its parameters ("application/json;
// charset=utf-8", as many clients send it).
func JSONContent(ct string) bool {
	if ct == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == cloudevents.ApplicationJSON || mt == "text/json")
}

// ErrWrongType reports an event of another type than the decoder expects.
var ErrWrongType = errors.New("events: wrong event type")

// Decode checks that e has type typ and JSON data, and decodes the data
// into a T. Every error means the event cannot be processed: a 400.
func Decode[T any](e event.Event, typ string) (T, error) {
	var v T
	if e.Type() != typ {
		return v, fmt.Errorf("%w: got %q, want %q", ErrWrongType, e.Type(), typ)
	}
	if ct := e.DataContentType(); !JSONContent(ct) {
		return v, fmt.Errorf("events: %s: datacontenttype %q, want application/json", typ, ct)
	}
	if len(e.Data()) == 0 {
		return v, fmt.Errorf("events: %s: no data", typ)
	}
	var err error
	if b, ok := any(&v).(bulkDecoder); ok {
		err = b.decodeData(e.Data())
	} else {
		err = decodeStrict(e.Data(), &v)
	}
	if err != nil {
		return v, fmt.Errorf("events: %s data: %w", typ, err)
	}
	return v, nil
}

// decodeStrict decodes data into v as strictly as the batch codec: a
// misspelt field is a fault, not a silently missing value.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// Tenant returns the tenant extension of e, or DefaultTenant.
func Tenant(e event.Event) string {
	if v, _ := e.Extensions()[ExtTenant].(string); v != "" {
		return v
	}
	return DefaultTenant
}

// BatchID returns the batchid extension of e, or "".
func BatchID(e event.Event) string {
	v, _ := e.Extensions()[ExtBatchID].(string)
	return v
}

// Retryable reports whether a Knative broker retries a delivery answered
// with HTTP status code: 404, 408, 409, 429 and every 5xx. Other codes are
// final: 2xx is success, and 400, 401, 403 and the other 4xx (and 3xx) are
// failures the broker does not retry. A subscriber that wants an event
// again answers a retryable code; one that can never process it, a 400.
func Retryable(code int) bool {
	switch code {
	case http.StatusNotFound, http.StatusRequestTimeout, http.StatusConflict, http.StatusTooManyRequests:
		return true
	}
	return code >= 500
}
