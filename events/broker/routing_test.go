package broker_test

import (
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/pricefn/pricefn/events"
	"github.com/pricefn/pricefn/events/broker"
	"github.com/pricefn/pricefn/knative"
)

// replyTypes gives, for each Service of the project's manifests, the event
// types it may answer a delivery with (its replies). Keep it in step with
// the functions: TestRealManifestsNoReplyLoop relies on it.
var replyTypes = map[string][]string{
	"pricefn-ingress":    nil,
	"pricefn-pricer":     {events.TypeChunkPriced},
	"pricefn-aggregator": nil, // it sends batch.completed to K_SINK, not as a reply
}

func realManifest(t *testing.T) *broker.Manifest {
	t.Helper()
	m, err := broker.LoadManifest(knative.Manifests(), broker.DefaultName)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func typed(typ string) event.Event {
	e := event.New()
	e.SetID("1")
	e.SetSource("test")
	e.SetType(typ)
	return e
}

// TestRealManifestsRouting checks where the project's Triggers send each
// event type of the pipeline.
func TestRealManifestsRouting(t *testing.T) {
	m := realManifest(t)
	want := map[string][]string{
		events.TypeChunkRequested: {"pricefn-pricer"},
		events.TypeChunkPriced:    {"pricefn-aggregator"},
		events.TypeBatchAccepted:  {"pricefn-aggregator"},
		events.TypeBatchCompleted: nil,
		events.TypeBatchSubmitted: {"pricefn-ingress"},
	}
	for typ, subs := range want {
		var got []string
		for _, tr := range m.Triggers {
			if tr.Matches(typed(typ)) {
				if tr.Subscriber.Ref == nil || tr.Subscriber.Ref.Kind != "Service" {
					t.Errorf("trigger %s: subscriber %+v is not a Service ref", tr.Name, tr.Subscriber)
					continue
				}
				got = append(got, tr.Subscriber.Ref.Name)
			}
		}
		if !slices.Equal(got, subs) {
			t.Errorf("%s goes to %v, want %v", typ, got, subs)
		}
	}
	for _, tr := range m.Triggers {
		if len(tr.Filter) != 1 || tr.Filter["type"] == "" {
			t.Errorf("trigger %s: filter %v, want an exact type only", tr.Name, tr.Filter)
		}
		d := tr.Delivery
		if d == nil || d.Retry == nil || *d.Retry < 1 || d.BackoffPolicy != broker.BackoffExponential || d.BackoffDelay == "" {
			t.Errorf("trigger %s: delivery %+v, want retries with exponential backoff", tr.Name, d)
			continue
		}
		// Dead chunks (and any other dead event) reach the aggregator's
		// dead-letter path, so the batch can end "partial".
		if dls := d.DeadLetterSink; dls == nil || dls.Ref == nil || dls.Ref.Name != "pricefn-aggregator" || dls.URI != "/dead-letter" {
			t.Errorf("trigger %s: deadLetterSink %+v, want pricefn-aggregator /dead-letter", tr.Name, d.DeadLetterSink)
		}
	}
	if m.Delivery == nil {
		t.Error("the pricefn Broker has no default delivery")
	}
}

// TestRealManifestsNoReplyLoop checks that no reply of a subscriber matches
// the Trigger that delivered to it, directly or through other Triggers.
func TestRealManifestsNoReplyLoop(t *testing.T) {
	m := realManifest(t)
	// next[i] lists the Triggers that the replies of Trigger i's subscriber match.
	next := make([][]int, len(m.Triggers))
	for i, tr := range m.Triggers {
		svc := tr.Subscriber.Ref.Name
		replies, ok := replyTypes[svc]
		if !ok {
			t.Errorf("trigger %s: Service %s is not in replyTypes: add the types it replies with", tr.Name, svc)
			continue
		}
		for _, typ := range replies {
			if tr.Matches(typed(typ)) {
				t.Errorf("trigger %s: %s replies %s, which the trigger matches: a loop", tr.Name, svc, typ)
			}
			for j, other := range m.Triggers {
				if other.Matches(typed(typ)) {
					next[i] = append(next[i], j)
				}
			}
		}
	}
	for start := range m.Triggers {
		seen := map[int]bool{}
		stack := slices.Clone(next[start])
		for len(stack) > 0 {
			j := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if j == start {
				t.Errorf("trigger %s: its subscriber's replies come back to it through other triggers", m.Triggers[start].Name)
				break
			}
			if !seen[j] {
				seen[j] = true
				stack = append(stack, next[j]...)
			}
		}
	}
}

// TestRealManifestsPipeline runs the project's Triggers over HTTP with fake
// functions: a chunk.requested reaches the pricer, whose chunk.priced reply
// goes back into the broker and on to the aggregator; batch.accepted reaches
// the aggregator; batch.completed goes nowhere.
func TestRealManifestsPipeline(t *testing.T) {
	pricer := newSink(t, func(_ int, _ *http.Request, e event.Event) (int, *event.Event) {
		reply, err := events.New(events.TypeChunkPriced, "pricefn-pricer", e.ID()+"-priced", events.BatchID(e), map[string]int{"index": 0})
		if err != nil {
			t.Error(err)
			return http.StatusInternalServerError, nil
		}
		return http.StatusOK, &reply
	})
	aggregator := newSink(t, ok)
	en := newEnv(t, broker.Config{
		Manifests:   knative.Manifests(),
		Subscribers: map[string]string{"pricefn-ingress": aggregator.URL, "pricefn-pricer": pricer.URL, "pricefn-aggregator": aggregator.URL},
	}, nil)

	for _, e := range []event.Event{
		newEvent(t, events.TypeBatchAccepted, "acc-1"),
		newEvent(t, events.TypeChunkRequested, "chunk-1"),
		newEvent(t, events.TypeBatchCompleted, "done-1"),
	} {
		if code := post(t, en.ingress.URL+"/pricefn/pricefn", e, false); code != http.StatusAccepted {
			t.Fatalf("post %s: %d, want 202", e.Type(), code)
		}
	}
	req := pricer.next(t)
	if req.event.Type() != events.TypeChunkRequested || req.header.Get("Prefer") != "reply" || req.header.Get("Ce-Id") != "chunk-1" {
		t.Errorf("pricer got %s with headers %v, want chunk.requested in binary mode with Prefer: reply", req.event.Type(), req.header)
	}
	if _, ok := req.event.Extensions()[broker.TTLExtension]; ok {
		t.Error("the delivered event carries the broker's TTL extension")
	}
	got := map[string]string{}
	for range 2 {
		r := aggregator.next(t)
		got[r.event.Type()] = r.event.ID()
		if events.BatchID(r.event) != "batch-1" {
			t.Errorf("%s: batchid %q, want batch-1", r.event.Type(), events.BatchID(r.event))
		}
	}
	want := map[string]string{events.TypeBatchAccepted: "acc-1", events.TypeChunkPriced: "chunk-1-priced"}
	if !maps.Equal(got, want) {
		t.Errorf("aggregator got %v, want %v", got, want)
	}
	en.drain(t)
	if pricer.count() != 1 || aggregator.count() != 2 {
		t.Errorf("pricer had %d requests, aggregator %d; want 1 and 2", pricer.count(), aggregator.count())
	}
	if v := metric(t, en.reg, "pricefn_broker_events_received_total", "origin", "reply", "outcome", "accepted"); v != 1 {
		t.Errorf("replies accepted = %v, want 1", v)
	}
	if v := metric(t, en.reg, "pricefn_broker_events_received_total", "origin", "http", "outcome", "unmatched"); v != 1 {
		t.Errorf("unmatched = %v, want 1 (batch.completed)", v)
	}
	for _, tr := range []string{"pricefn-chunk-requested", "pricefn-chunk-priced", "pricefn-batch-accepted"} {
		if v := metric(t, en.reg, "pricefn_broker_deliveries_total", "trigger", tr, "outcome", "delivered"); v != 1 {
			t.Errorf("deliveries of %s = %v, want 1", tr, v)
		}
		if v := metric(t, en.reg, "pricefn_broker_delivery_duration_seconds", "trigger", tr, "target", "subscriber"); v != 1 {
			t.Errorf("latency samples of %s = %v, want 1", tr, v)
		}
	}
}

// The real manifests name every Service; New refuses to start without one.
func TestRealManifestsNeedEverySubscriber(t *testing.T) {
	_, err := broker.New(broker.Config{Subscribers: map[string]string{"pricefn-pricer": "http://127.0.0.1:1"}})
	if err == nil || !strings.Contains(err.Error(), `"pricefn-aggregator"`) {
		t.Errorf("New without the aggregator: %v", err)
	}
}
