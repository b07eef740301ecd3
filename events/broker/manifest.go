package broker

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"strings"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/types"
	"sigs.k8s.io/yaml"
)

// Manifest is what the broker takes from Knative YAML: the default delivery
// of one Broker and the Triggers that name it.
type Manifest struct {
	// Broker is the name of the Broker.
	Broker string
	// Delivery is the Broker object's spec.delivery: the delivery of every
	// Trigger that sets none. Nil when the Broker object is absent or has no
	// delivery.
	Delivery *Delivery
	// Triggers lists the Triggers whose spec.broker is Broker, in file order
	// (files sorted by name).
	Triggers []Trigger
}

// Trigger is a Knative eventing.knative.dev/v1 Trigger, reduced to the
// fields the broker uses.
type Trigger struct {
	Name      string
	Namespace string
	// Filter is spec.filter.attributes: CloudEvents attribute (or extension)
	// name to the exact value an event must have. An empty value matches any
	// value, as in Knative; an empty Filter matches every event.
	Filter map[string]string
	// Subscriber is where matching events are delivered.
	Subscriber Destination
	// Delivery is spec.delivery; nil means the Broker's.
	Delivery *Delivery
}

// Destination is a Knative duck/v1 Destination: an object reference, an
// absolute URI, or a reference and a URI relative to it.
type Destination struct {
	Ref *Ref   `json:"ref,omitempty"`
	URI string `json:"uri,omitempty"`
}

// Ref names a Kubernetes object, as in a Destination's ref.
type Ref struct {
	APIVersion string `json:"apiVersion,omitempty"`
	Kind       string `json:"kind"`
	Name       string `json:"name"`
	Namespace  string `json:"namespace,omitempty"`
}

// Delivery is a Knative duck/v1 DeliverySpec. Durations are ISO-8601
// (PT0.2S); BackoffPolicy is "linear" or "exponential".
type Delivery struct {
	DeadLetterSink *Destination `json:"deadLetterSink,omitempty"`
	// Retry is the number of retries after the first attempt; nil means 0.
	Retry         *int32 `json:"retry,omitempty"`
	BackoffPolicy string `json:"backoffPolicy,omitempty"`
	BackoffDelay  string `json:"backoffDelay,omitempty"`
	// Timeout bounds each HTTP attempt.
	Timeout string `json:"timeout,omitempty"`
}

// DeliveryOf returns the delivery that applies to t: its own, else the
// Broker's. Nil means neither sets one, and Knative's default applies (see
// Delivery.Schedule).
func (m *Manifest) DeliveryOf(t Trigger) *Delivery {
	if t.Delivery != nil {
		return t.Delivery
	}
	return m.Delivery
}

// Matches reports whether e passes t's filter.
func (t Trigger) Matches(e event.Event) bool {
	for name, want := range t.Filter {
		if want != "" && attribute(e, name) != want {
			return false
		}
	}
	return true
}

// attribute returns the string form of e's context attribute or extension
// called name, or "" when e has none.
func attribute(e event.Event, name string) string {
	switch strings.ToLower(name) {
	case "specversion":
		return e.SpecVersion()
	case "type":
		return e.Type()
	case "source":
		return e.Source()
	case "subject":
		return e.Subject()
	case "id":
		return e.ID()
	case "time":
		if e.Time().IsZero() {
			return ""
		}
		return types.FormatTime(e.Time())
	case "dataschema":
		return e.DataSchema()
	case "datacontenttype":
		return e.DataContentType()
	}
	v, ok := e.Extensions()[strings.ToLower(name)]
	if !ok {
		return ""
	}
	s, err := types.Format(v)
	if err != nil {
		return ""
	}
	return s
}

// object is the part of any Kubernetes object the loader reads first.
type object struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
	Spec json.RawMessage `json:"spec"`
}

type triggerSpec struct {
	Broker string `json:"broker"`
	Filter *struct {
		Attributes map[string]string `json:"attributes"`
	} `json:"filter"`
	// Filters is the newer filter language (prefix, suffix, CESQL), which
	// not every broker class supports; the loader rejects it rather than
	// ignore it and match every event.
	Filters    json.RawMessage `json:"filters"`
	Subscriber Destination     `json:"subscriber"`
	Delivery   *Delivery       `json:"delivery"`
}

type brokerSpec struct {
	Delivery *Delivery `json:"delivery"`
}

const eventingGroup = "eventing.knative.dev/"

// LoadManifest reads every *.yaml and *.yml file at the root of fsys and
// returns the default delivery of the Broker called broker and the Triggers
// whose spec.broker is broker. Objects of other kinds are skipped. It
// checks each Trigger (a subscriber, no spec.filters, a valid delivery) and
// fails when no Trigger names broker.
func LoadManifest(fsys fs.FS, broker string) (*Manifest, error) {
	var names []string
	for _, pattern := range []string{"*.yaml", "*.yml"} {
		m, err := fs.Glob(fsys, pattern)
		if err != nil {
			return nil, fmt.Errorf("broker: manifests: %w", err)
		}
		names = append(names, m...)
	}
	man := &Manifest{Broker: broker}
	seen := make(map[string]string) // trigger namespace/name -> file
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("broker: manifests: %w", err)
		}
		for i, doc := range splitDocuments(data) {
			if err := man.add(doc, broker, seen, name); err != nil {
				return nil, fmt.Errorf("broker: %s: document %d: %w", name, i+1, err)
			}
		}
	}
	if len(man.Triggers) == 0 {
		return nil, fmt.Errorf("broker: manifests: no Trigger names broker %q", broker)
	}
	return man, nil
}

// add adds one YAML document to m when it is the Broker or one of its
// Triggers.
func (m *Manifest) add(doc []byte, broker string, seen map[string]string, file string) error {
	var obj object
	if err := yaml.Unmarshal(doc, &obj); err != nil {
		return err
	}
	if !strings.HasPrefix(obj.APIVersion, eventingGroup) {
		return nil
	}
	switch obj.Kind {
	case "Broker":
		if obj.Metadata.Name != broker {
			return nil
		}
		var spec brokerSpec
		if err := unmarshalSpec(obj.Spec, &spec); err != nil {
			return fmt.Errorf("broker %q: %w", obj.Metadata.Name, err)
		}
		if err := spec.Delivery.check(); err != nil {
			return fmt.Errorf("broker %q: spec.delivery: %w", obj.Metadata.Name, err)
		}
		m.Delivery = spec.Delivery
	case "Trigger":
		var spec triggerSpec
		if err := unmarshalSpec(obj.Spec, &spec); err != nil {
			return fmt.Errorf("trigger %q: %w", obj.Metadata.Name, err)
		}
		if spec.Broker != broker {
			return nil
		}
		t := Trigger{
			Name:       obj.Metadata.Name,
			Namespace:  obj.Metadata.Namespace,
			Subscriber: spec.Subscriber,
			Delivery:   spec.Delivery,
		}
		if spec.Filter != nil {
			t.Filter = spec.Filter.Attributes
		}
		if err := t.check(spec); err != nil {
			return fmt.Errorf("trigger %q: %w", t.Name, err)
		}
		key := t.Namespace + "/" + t.Name
		if prev, ok := seen[key]; ok {
			return fmt.Errorf("trigger %q: defined twice (also in %s)", t.Name, prev)
		}
		seen[key] = file
		m.Triggers = append(m.Triggers, t)
	}
	return nil
}

func unmarshalSpec(raw json.RawMessage, v any) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("spec: %w", err)
	}
	return nil
}

// check reports what the broker cannot route in t.
func (t Trigger) check(spec triggerSpec) error {
	if t.Name == "" {
		return fmt.Errorf("no metadata.name")
	}
	if f := bytes.TrimSpace(spec.Filters); len(f) > 0 && string(f) != "null" && string(f) != "[]" {
		return fmt.Errorf("spec.filters is not supported (not every broker class has it): use spec.filter.attributes")
	}
	if t.Subscriber.Ref == nil && t.Subscriber.URI == "" {
		return fmt.Errorf("spec.subscriber: no ref and no uri")
	}
	if err := t.Delivery.check(); err != nil {
		return fmt.Errorf("spec.delivery: %w", err)
	}
	return nil
}

// splitDocuments splits a YAML stream at its "---" separator lines.
func splitDocuments(data []byte) [][]byte {
	var docs [][]byte
	start := 0
	for i := 0; i <= len(data); {
		end := bytes.IndexByte(data[i:], '\n')
		if end < 0 {
			end = len(data)
		} else {
			end += i
		}
		line := bytes.TrimRight(data[i:end], " \t\r")
		if bytes.Equal(line, []byte("---")) || bytes.HasPrefix(line, []byte("--- ")) {
			docs = append(docs, data[start:i])
			start = end + 1
		}
		i = end + 1
	}
	if start < len(data) {
		docs = append(docs, data[start:])
	}
	return docs
}
