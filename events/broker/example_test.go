package broker_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/pricefn/pricefn/events"
	"github.com/pricefn/pricefn/events/broker"
	"github.com/pricefn/pricefn/knative"
)

// The project's routing, as its Triggers write it.
func ExampleLoadManifest() {
	m, err := broker.LoadManifest(knative.Manifests(), broker.DefaultName)
	if err != nil {
		panic(err)
	}
	for _, t := range m.Triggers {
		fmt.Printf("%s: %s -> %s (dead letters -> %s%s)\n", t.Name, t.Filter["type"], t.Subscriber.Ref.Name,
			t.Delivery.DeadLetterSink.Ref.Name, t.Delivery.DeadLetterSink.URI)
	}
	// Output:
	// pricefn-chunk-requested: io.pricefn.chunk.requested -> pricefn-pricer (dead letters -> pricefn-aggregator/dead-letter)
	// pricefn-chunk-priced: io.pricefn.chunk.priced -> pricefn-aggregator (dead letters -> pricefn-aggregator/dead-letter)
	// pricefn-batch-accepted: io.pricefn.batch.accepted -> pricefn-aggregator (dead letters -> pricefn-aggregator/dead-letter)
	// pricefn-batch-submitted: io.pricefn.batch.submitted -> pricefn-ingress (dead letters -> pricefn-aggregator/dead-letter)
}

// A broker with the project's Triggers, a fake pricer and aggregator, and
// an event sent to its ingress over HTTP.
func ExampleNew() {
	got := make(chan string, 1)
	pricer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e, _ := cehttp.NewEventFromHTTPRequest(r)
		got <- e.Type() + " for batch " + events.BatchID(*e)
	}))
	defer pricer.Close()
	aggregator := httptest.NewServer(http.NotFoundHandler())
	defer aggregator.Close()

	b, err := broker.New(broker.Config{
		Subscribers: map[string]string{"pricefn-ingress": aggregator.URL, "pricefn-pricer": pricer.URL, "pricefn-aggregator": aggregator.URL},
	})
	if err != nil {
		panic(err)
	}
	ingress := httptest.NewServer(b) // K_SINK of the functions
	defer ingress.Close()

	e, _ := events.New(events.TypeChunkRequested, "example", "chunk-0", "b-42", map[string]int{"index": 0})
	req, _ := cehttp.NewHTTPRequestFromEvent(context.Background(), ingress.URL, e)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode)
	fmt.Println(<-got)
	fmt.Println(b.Shutdown(context.Background()))
	// Output:
	// 202
	// io.pricefn.chunk.requested for batch b-42
	// <nil>
}
