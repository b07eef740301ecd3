package aggregator_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/pricefn/pricefn/api"
	"github.com/pricefn/pricefn/events"
)

// TestDeadLetteredEarlyChunkIsRetried: a chunk.priced whose batch.accepted
// is late exhausts its retries (404) and reaches the dead-letter sink while
// the batch is still unknown. The sink must answer a retryable status, not
// drop the result, or the batch never finishes.
func TestDeadLetteredEarlyChunkIsRetried(t *testing.T) {
	f := newFixture(t)
	early := pricedEvent(t, "b1", 0)
	if code, body := f.post(t, "/dead-letter", early); !events.Retryable(code) {
		t.Fatalf("dead-lettered chunk of a batch not known yet: %d %s, want a status the broker retries", code, body)
	}
	f.mustPost(t, "/", f.acceptedEvent(t, "b1"))
	f.mustPost(t, "/dead-letter", early) // the broker's retry
	f.mustPost(t, "/", pricedEvent(t, "b1", 1))
	f.mustPost(t, "/", pricedEvent(t, "b1", 2))
	if st := f.status(t, "b1"); st.State != api.StateCompleted || st.Priced != 6 {
		t.Fatalf("status %+v, want completed with every chunk priced", st)
	}
}

// TestRefusedChunkDeadLetteredFinishesBatch: a chunk.priced the aggregator
// refuses (400: its results do not fit the batch) is dead-lettered; the
// chunk is then dead, so the batch ends partial instead of running for
// ever, and the reason names the refusal.
func TestRefusedChunkDeadLetteredFinishesBatch(t *testing.T) {
	f := newFixture(t)
	f.mustPost(t, "/", f.acceptedEvent(t, "b1"))
	f.mustPost(t, "/", pricedEvent(t, "b1", 0))
	f.mustPost(t, "/", pricedEvent(t, "b1", 2))

	bad := pricedEvent(t, "b1", 1)
	c, rs := resultsOf(t, bad)
	bad = mustEvent(t, events.TypeChunkPriced, bad.ID(), "b1", withResults(t, c, rs[:1]))
	if code, body := f.post(t, "/", bad); code != http.StatusBadRequest || strings.Contains(body, "aggregator: aggregator:") {
		t.Fatalf("short chunk: %d %s, want 400 with one package prefix", code, body)
	}
	bad.SetExtension("knativeerrorcode", "400")
	f.mustPost(t, "/dead-letter", bad)

	st := f.status(t, "b1")
	if st.State != api.StatePartial || st.Missing != 2 || len(st.FailedChunks) != 1 {
		t.Fatalf("status %+v, want partial with chunk 1 dead", st)
	}
	if r := st.FailedChunks[0].Reason; !strings.Contains(r, "with status 400") || !strings.Contains(r, "holds trades [3, 5), got 1 results") {
		t.Errorf("reason %q does not say why the chunk was refused", r)
	}
	if cs := f.completions(t); len(cs) != 1 || cs[0].State != api.StatePartial {
		t.Fatalf("completions %+v, want one partial", cs)
	}
}

// TestReusedIDDoesNotMixBatches: events of a second batch submitted under
// an id in use (another digest) are ignored, even dead-lettered ones, so
// they neither mix their results into the first batch nor kill its
// pending chunks.
func TestReusedIDDoesNotMixBatches(t *testing.T) {
	f := newFixture(t)
	withDigest := func(e event.Event, digest string) event.Event {
		var m map[string]any
		if err := e.DataAs(&m); err != nil {
			t.Fatal(err)
		}
		m["digest"] = digest
		return mustEvent(t, e.Type(), e.ID(), "b1", m)
	}
	f.mustPost(t, "/", f.acceptedWithDigest(t, "b1", "sha256:first"))
	f.mustPost(t, "/", withDigest(pricedEvent(t, "b1", 0), "sha256:first"))

	// The second batch: its batch.accepted, a chunk that fits, one that
	// does not (and is dead-lettered), and a dead chunk.requested.
	f.mustPost(t, "/", mustEvent(t, events.TypeBatchAccepted, "b1/accepted", "b1", events.BatchAccepted{
		BatchID: "b1", Attempt: 1, Trades: len(tradeIDs), ChunkOffsets: offsets, SubmittedAt: submitAt, Digest: "sha256:second",
	}))
	f.mustPost(t, "/", withDigest(pricedEvent(t, "b1", 2), "sha256:second"))
	short := pricedEvent(t, "b1", 1)
	c, rs := resultsOf(t, short)
	c = withResults(t, c, rs[:1])
	c.Digest = "sha256:second"
	f.mustPost(t, "/", mustEvent(t, events.TypeChunkPriced, short.ID(), "b1", c))
	f.mustPost(t, "/dead-letter", mustEvent(t, events.TypeChunkPriced, short.ID(), "b1", c))
	f.mustPost(t, "/dead-letter", withDigest(deadLetter(t, "b1", 1), "sha256:second"))
	if st := f.status(t, "b1"); st.ChunksDone != 1 || st.Duplicates != 0 || st.State != api.StateRunning {
		t.Fatalf("status %+v after the second batch's events, want only chunk 0 done", st)
	}

	f.mustPost(t, "/", withDigest(pricedEvent(t, "b1", 1), "sha256:first"))
	f.mustPost(t, "/", withDigest(pricedEvent(t, "b1", 2), "sha256:first"))
	if st := f.status(t, "b1"); st.State != api.StateCompleted || st.Priced != 6 {
		t.Fatalf("status %+v, want the first batch completed", st)
	}
}
