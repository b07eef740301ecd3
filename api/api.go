// Package api holds the documents of pricefn's public HTTP API (wire
// format sections 2 and 5): the receipt of POST /batches, the status of
// GET /batches/{id} with its timeline, the list of GET /batches, and the
// states of a batch. The servers (functions/ingress, functions/aggregator)
// write them and clients (pricefn submit, the console's tests) read them
// from this one definition; it imports nothing of pricefn's.
package api

import "time"

// The states of a batch (wire format section 5).
const (
	StatePending   = "pending"   // accepted, no chunk outcome yet
	StateRunning   = "running"   // some chunks have an outcome
	StateCompleted = "completed" // every chunk priced
	StatePartial   = "partial"   // every chunk has an outcome, some dead
	StateFailed    = "failed"    // every chunk dead
)

// Finished reports whether a state is final.
func Finished(state string) bool { return state != StatePending && state != StateRunning }

// Receipt is ingress's answer to an accepted batch.
type Receipt struct {
	BatchID string `json:"batchId"`
	// Attempt numbers the pricings of the id; Existing says the batch was
	// submitted before with the same content and is not priced again.
	Attempt  int  `json:"attempt"`
	Existing bool `json:"existing,omitempty"`
	// State is the batch's state when Existing.
	State string `json:"state,omitempty"`
	// Sample describes the trades of a /valQuery sample batch.
	Sample     string `json:"sample,omitempty"`
	Trades     int    `json:"trades"`
	Chunks     int    `json:"chunks"`
	StatusURL  string `json:"statusUrl"`
	ResultsURL string `json:"resultsUrl"`
	// TraceParent is the W3C trace context every event and log line of
	// the batch carries: the client's, or one minted for the batch.
	TraceParent string `json:"traceparent,omitempty"`
}

// Progress is a batch's state and counts: in its status, and in each
// event of its progress stream (GET /batches/{id}/events).
type Progress struct {
	State string `json:"state"`
	// Trades counts the batch's trades: Priced ones have results, Failed
	// ones an error result, Missing ones sit in dead chunks and Pending ones
	// in chunks without an outcome yet.
	Trades  int `json:"trades"`
	Priced  int `json:"priced"`
	Failed  int `json:"failed"`
	Missing int `json:"missing"`
	Pending int `json:"pending"`
	// Chunks counts the chunks; ChunksDone have an outcome, ChunksFailed
	// of them are dead.
	Chunks       int `json:"chunks"`
	ChunksDone   int `json:"chunksDone"`
	ChunksFailed int `json:"chunksFailed"`
	// ScenarioChunks counts, of a risk run's chunks, those that value
	// its trades in a range of its scenarios (holding no trades of their
	// own); ScenarioChunksDone those with an outcome.
	ScenarioChunks     int `json:"scenarioChunks,omitempty"`
	ScenarioChunksDone int `json:"scenarioChunksDone,omitempty"`
}

// Status is the status document of GET /batches/{id}: its Progress
// members are its own.
type Status struct {
	BatchID string `json:"batchId"`
	Progress
	// Attempt numbers the submissions of the id that were priced.
	Attempt int `json:"attempt"`
	// Duplicates counts duplicate deliveries ignored.
	Duplicates int `json:"duplicates"`
	// Late counts chunk outcomes that came after the deadline.
	Late int `json:"late,omitempty"`
	// FailedChunks says why each dead chunk failed, of the first 100
	// by index (ChunksFailed counts them all).
	FailedChunks []FailedChunk `json:"failedChunks,omitempty"`
	Timings      Timings       `json:"timings"`
	// Totals sums npv and the sensitivities of the priced trades.
	Totals     Totals `json:"totals"`
	ResultsURL string `json:"resultsUrl,omitempty"`
	// Timeline follows each chunk, when asked for (?timeline=true): a
	// page of them, by index, from ?from=N (0), at most ?limit=M.
	Timeline []ChunkTiming `json:"timeline,omitempty"`
	// TimelineNext is where the timeline's next page starts (its
	// ?from=), absent on its last page.
	TimelineNext *int `json:"timelineNext,omitempty"`
}

// FailedChunk is one dead chunk.
type FailedChunk struct {
	Index  int    `json:"index"`
	Trades int    `json:"trades"`
	Reason string `json:"reason"`
}

// Timings are a batch's times. Durations are in seconds.
type Timings struct {
	SubmittedAt time.Time `json:"submittedAt"`
	AcceptedAt  time.Time `json:"acceptedAt,omitzero"` // zero (absent) until batch.accepted is in
	// SentAt is when ingress had handed every chunk to the broker; zero
	// (absent) before. Ingress tells the aggregator of a batch before it
	// sends the chunks: a batch accepted and never sent in full lost its
	// ingress on the way, and its next submission sends them.
	SentAt time.Time `json:"sentAt,omitzero"`
	// SendingAt is the latest sign of life of the ingress sending the
	// chunks, renewed every few seconds while it sends (5 s by default);
	// zero (absent) before any. A batch with no sentAt whose sendingAt
	// moves is being sent: a submission of it again sends nothing. It is
	// to the millisecond, whatever the store, as the deadline.
	SendingAt    time.Time  `json:"sendingAt,omitzero"`
	FirstChunkAt *time.Time `json:"firstChunkAt,omitempty"`
	LastChunkAt  *time.Time `json:"lastChunkAt,omitempty"`
	CompletedAt  *time.Time `json:"completedAt,omitempty"`
	// Deadline is when the batch ends partial if chunks are missing, to
	// the millisecond.
	Deadline *time.Time `json:"deadline,omitempty"`
	// DurationSeconds runs from submission to completion, or to now.
	DurationSeconds float64 `json:"durationSeconds"`
	// PricingSeconds sums the chunks' pricing times (pricer busy time).
	PricingSeconds float64 `json:"pricingSeconds"`
}

// Sums maps a measure name to its sum over trades.
type Sums map[string]float64

// Totals are portfolio sums: over all priced trades and per underlying.
// Rates trades count in All only.
type Totals struct {
	All          Sums            `json:"all"`
	ByUnderlying map[string]Sums `json:"byUnderlying,omitempty"`
}

// ChunkTiming is one chunk's timeline: queued at ingress, delivered to a
// pricer, priced, recorded by the aggregator, and how many of its outcomes
// arrived. Times are UTC; DeliveredAt and PricedAt are by the pricer's
// clock, RecordedAt by the aggregator's.
type ChunkTiming struct {
	Index  int `json:"index"`
	Trades int `json:"trades"`
	// State is pending (no outcome yet), priced or dead.
	State string `json:"state"`
	// Failed counts the trades priced to an error result.
	Failed int `json:"failed,omitempty"`
	// QueuedSeconds runs from the batch's submission to a pricer starting
	// on the chunk: ingress's split and send, the broker's queue and its
	// retries (with their back-off), a pricer's cold start.
	QueuedSeconds *float64 `json:"queuedSeconds,omitempty"`
	// RequestedAt is when ingress made the chunk's event to send it (by
	// its clock; a group of 2*SendLimit chunks is made, then sent): what
	// comes before is its split, what comes after until DeliveredAt the
	// send, the broker's queue, its retries and a cold start.
	RequestedAt *time.Time `json:"requestedAt,omitempty"`
	DeliveredAt *time.Time `json:"deliveredAt,omitempty"`
	PricedAt    *time.Time `json:"pricedAt,omitempty"`
	RecordedAt  *time.Time `json:"recordedAt,omitempty"`
	// PricedBy names the pricer instance.
	PricedBy string `json:"pricedBy,omitempty"`
	// Deliveries counts the outcomes that arrived for the chunk: more
	// than 1 means it was delivered again (a broker's retry after a lost
	// answer, a redelivery) and the extra outcomes were absorbed.
	Deliveries int `json:"deliveries,omitempty"`
	// Reason says why a dead chunk failed: the broker's last status after
	// its retries, or the deadline.
	Reason string `json:"reason,omitempty"`
}

// BatchList is the answer of GET /batches: the tenant's recent batches,
// newest first.
type BatchList struct {
	Batches []BatchItem `json:"batches"`
}

// BatchItem is one batch of a BatchList.
type BatchItem struct {
	BatchID         string    `json:"batchId"`
	State           string    `json:"state"`
	Attempt         int       `json:"attempt"`
	Trades          int       `json:"trades"`
	Chunks          int       `json:"chunks"`
	ChunksDone      int       `json:"chunksDone"`
	SubmittedAt     time.Time `json:"submittedAt"`
	DurationSeconds float64   `json:"durationSeconds"`
	StatusURL       string    `json:"statusUrl"`
}

// HeaderAttempt is the response header of a results document that names
// the attempt whose results it holds: a batch submitted again meanwhile
// is another attempt, whose status a client must not take for theirs.
const HeaderAttempt = "Pricefn-Attempt"
