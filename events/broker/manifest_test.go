package broker_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/pricefn/pricefn/events/broker"
)

func TestLoadManifest(t *testing.T) {
	m, err := broker.LoadManifest(fixture(), "test")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tr := range m.Triggers {
		names = append(names, tr.Name)
	}
	if got, want := strings.Join(names, ","), "a,b,c,slow,loop"; got != want {
		t.Errorf("triggers %s, want %s (x belongs to another broker)", got, want)
	}
	if m.Delivery == nil || m.Delivery.Retry == nil || *m.Delivery.Retry != 2 || m.Delivery.BackoffDelay != "PT0.001S" {
		t.Errorf("broker delivery %+v, want retry 2, PT0.001S", m.Delivery)
	}
	b := m.Triggers[1]
	if b.Subscriber.Ref == nil || b.Subscriber.Ref.Name != "svc-b" || b.Subscriber.URI != "/b" || b.Delivery != nil {
		t.Errorf("trigger b = %+v", b)
	}
	a := m.Triggers[0]
	if a.Delivery == nil || a.Delivery.DeadLetterSink == nil || a.Delivery.DeadLetterSink.URI != "/dead-letter" {
		t.Errorf("trigger a delivery = %+v", a.Delivery)
	}

	other, err := broker.LoadManifest(fixture(), "other")
	if err != nil || len(other.Triggers) != 1 || other.Triggers[0].Name != "x" || other.Delivery != nil {
		t.Errorf("broker other: %+v, %v", other, err)
	}
}

func TestTriggerMatches(t *testing.T) {
	m, err := broker.LoadManifest(fixture(), "test")
	if err != nil {
		t.Fatal(err)
	}
	mk := func(typ, source string, exts map[string]any) event.Event {
		e := event.New()
		e.SetID("1")
		e.SetType(typ)
		e.SetSource(source)
		for k, v := range exts {
			e.SetExtension(k, v)
		}
		return e
	}
	tests := []struct {
		name string
		e    event.Event
		want string // matching triggers
	}{
		{"type a", mk("test.a", "src", nil), "a"},
		{"type a, source and extension of c", mk("test.a", "src-c", map[string]any{"flavour": "x"}), "a,c"},
		{"c needs the extension", mk("test.a", "src-c", nil), "a"},
		{"c needs its value", mk("test.a", "src-c", map[string]any{"flavour": "y"}), "a"},
		{"type b", mk("test.b", "src", nil), "b"},
		{"type is exact", mk("test.b.x", "src", nil), ""},
		{"case matters", mk("TEST.B", "src", nil), ""},
		{"no trigger", mk("test.none", "src", nil), ""},
	}
	for _, tt := range tests {
		var got []string
		for _, tr := range m.Triggers {
			if tr.Matches(tt.e) {
				got = append(got, tr.Name)
			}
		}
		if strings.Join(got, ",") != tt.want {
			t.Errorf("%s: matches %v, want %s", tt.name, got, tt.want)
		}
	}
	wildcard := broker.Trigger{Filter: map[string]string{"type": ""}}
	if !wildcard.Matches(mk("whatever", "s", nil)) || !(broker.Trigger{}).Matches(mk("x", "s", nil)) {
		t.Error("an empty filter value or filter should match every event")
	}
	num := broker.Trigger{Filter: map[string]string{"attempt": "3"}}
	if !num.Matches(mk("x", "s", map[string]any{"attempt": 3})) {
		t.Error("an integer extension should match its decimal form")
	}
}

func TestLoadManifestErrors(t *testing.T) {
	const trigger = `apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: t1}
spec:
  broker: test
  subscriber: {uri: "http://127.0.0.1:1/"}
`
	tests := []struct {
		name, yaml, want string
	}{
		{"no trigger", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n", `no Trigger names broker "test"`},
		{"spec.filters", trigger + "  filters: [{exact: {type: a}}]\n", "spec.filters is not supported"},
		{"no subscriber", strings.Replace(trigger, `  subscriber: {uri: "http://127.0.0.1:1/"}`, "", 1), "no ref and no uri"},
		{"bad delay", trigger + "  delivery: {backoffDelay: 200ms}\n", "backoffDelay"},
		{"bad broker delivery", "apiVersion: eventing.knative.dev/v1\nkind: Broker\nmetadata: {name: test}\nspec:\n  delivery: {backoffPolicy: random}\n---\n" + trigger, "backoffPolicy"},
		{"twice", trigger + "---\n" + trigger, "defined twice"},
		{"bad yaml", "kind: [", "document 1"},
	}
	for _, tt := range tests {
		_, err := broker.LoadManifest(fstest.MapFS{"m.yaml": {Data: []byte(tt.yaml)}}, "test")
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "broker: ") {
			t.Errorf("%s: error %v, want one containing %q", tt.name, err, tt.want)
		}
	}
}

func TestNewUnresolved(t *testing.T) {
	_, err := broker.New(broker.Config{
		Name:        "test",
		Manifests:   fixture(),
		Subscribers: map[string]string{"svc-a": "http://127.0.0.1:1", "svc-b": "http://127.0.0.1:2"},
	})
	if !errors.Is(err, broker.ErrUnresolved) {
		t.Fatalf("New error = %v, want ErrUnresolved", err)
	}
	var ue *broker.UnresolvedError
	if !errors.As(err, &ue) || !slices.Equal(ue.Services, []string{"dls", "svc-c", "svc-loop", "svc-slow"}) {
		t.Errorf("New error %v, want an UnresolvedError listing dls, svc-c, svc-loop, svc-slow", err)
	}
	if strings.Contains(err.Error(), "svc-unknown") {
		t.Errorf("error %q names a Service of another broker", err)
	}
}
