// Package metricstest reads series back from a Prometheus registry, for
// tests that check what a function counted.
package metricstest

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Find returns the first series of the metric name whose labels include
// labels, or nil when there is none.
func Find(g prometheus.Gatherer, name string, labels map[string]string) (*dto.Metric, error) {
	fams, err := g.Gather()
	if err != nil {
		return nil, fmt.Errorf("metricstest: gather: %w", err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	next:
		for _, m := range f.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue next
				}
			}
			return m, nil
		}
	}
	return nil, nil
}

// Value returns the value of the series Find finds: a counter's or gauge's
// value, a histogram's sample count; ok is false when there is none.
func Value(g prometheus.Gatherer, name string, labels map[string]string) (v float64, ok bool, err error) {
	m, err := Find(g, name, labels)
	if m == nil || err != nil {
		return 0, false, err
	}
	switch {
	case m.GetCounter() != nil:
		return m.GetCounter().GetValue(), true, nil
	case m.GetGauge() != nil:
		return m.GetGauge().GetValue(), true, nil
	case m.GetHistogram() != nil:
		return float64(m.GetHistogram().GetSampleCount()), true, nil
	}
	return 0, false, nil
}
