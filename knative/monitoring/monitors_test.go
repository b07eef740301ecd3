package monitoring_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// object is what the tests read of a Kubernetes object.
type object struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name, Namespace string
	} `json:"metadata"`
	Spec struct {
		Selector struct {
			MatchLabels      map[string]string `json:"matchLabels"`
			MatchExpressions []struct {
				Key, Operator string
				Values        []string
			} `json:"matchExpressions"`
		} `json:"selector"`
		PodMetricsEndpoints []endpoint `json:"podMetricsEndpoints"`
		Endpoints           []endpoint `json:"endpoints"`
		// A Knative Service's pod template.
		Template struct {
			Metadata struct {
				Labels map[string]string `json:"labels"`
			} `json:"metadata"`
			Spec struct {
				Containers []struct {
					Env []struct{ Name, Value string } `json:"env"`
				} `json:"containers"`
			} `json:"spec"`
		} `json:"template"`
	} `json:"spec"`
}

type endpoint struct {
	Port, Path  string
	Relabelings []struct {
		SourceLabels []string `json:"sourceLabels"`
		Regex        string   `json:"regex"`
		Replacement  string   `json:"replacement"`
		TargetLabel  string   `json:"targetLabel"`
	} `json:"relabelings"`
}

// readObjects reads the objects of the YAML files matching pattern.
func readObjects(t *testing.T, pattern string) []object {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		t.Fatalf("%s: no files (%v)", pattern, err)
	}
	var out []object
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, doc := range regexp.MustCompile(`(?m)^---$`).Split(string(data), -1) {
			if strings.TrimSpace(regexp.MustCompile(`(?m)^#.*$`).ReplaceAllString(doc, "")) == "" {
				continue
			}
			var o object
			if err := yaml.Unmarshal([]byte(doc), &o); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			out = append(out, o)
		}
	}
	return out
}

// selects reports whether o's selector matches labels.
func selects(o object, labels map[string]string) bool {
	for k, v := range o.Spec.Selector.MatchLabels {
		if labels[k] != v {
			return false
		}
	}
	for _, e := range o.Spec.Selector.MatchExpressions {
		if e.Operator != "In" || !slices.Contains(e.Values, labels[e.Key]) {
			return false
		}
	}
	return len(o.Spec.Selector.MatchLabels)+len(o.Spec.Selector.MatchExpressions) > 0
}

// TestMonitorsSelectTheServices checks the prometheus-operator objects
// against the Knative Services of knative/services.yaml: every pricefn
// pod is scraped by exactly one PodMonitor, on the port its /metrics is
// on, and the Knative ServiceMonitor scrapes the autoscaler and activator.
func TestMonitorsSelectTheServices(t *testing.T) {
	monitors := readObjects(t, "*.yaml")
	services := readObjects(t, "../services.yaml")
	var pods []object
	for _, s := range services {
		if s.Kind == "Service" && s.APIVersion == "serving.knative.dev/v1" {
			pods = append(pods, s)
		}
	}
	if len(pods) != 4 {
		t.Fatalf("%d Knative Services in knative/services.yaml, want 4 (api, ingress, pricer, aggregator)", len(pods))
	}
	for _, m := range monitors {
		if m.APIVersion != "monitoring.coreos.com/v1" || (m.Kind != "PodMonitor" && m.Kind != "ServiceMonitor") || m.Metadata.Name == "" || m.Metadata.Namespace == "" {
			t.Errorf("%s %s/%s: want a named PodMonitor or ServiceMonitor of monitoring.coreos.com/v1 in a namespace", m.APIVersion, m.Kind, m.Metadata.Name)
		}
	}
	for _, p := range pods {
		name := p.Metadata.Name
		var by []object
		for _, m := range monitors {
			if m.Kind == "PodMonitor" && m.Metadata.Namespace == p.Metadata.Namespace && selects(m, p.Spec.Template.Metadata.Labels) {
				by = append(by, m)
			}
		}
		if len(by) != 1 {
			t.Errorf("Service %s's pods are selected by %d PodMonitors, want 1", name, len(by))
			continue
		}
		ep := by[0].Spec.PodMetricsEndpoints
		if len(ep) != 1 || ep[0].Port != "user-port" || ep[0].Path != "/metrics" {
			t.Errorf("Service %s: endpoints %+v, want /metrics on user-port (the name Knative gives the one port)", name, ep)
			continue
		}
		// The api serves /metrics on PRICEFN_METRICS_ADDR, the others on
		// their one port.
		metricsAddr := ""
		for _, c := range p.Spec.Template.Spec.Containers {
			for _, e := range c.Env {
				if e.Name == "PRICEFN_METRICS_ADDR" {
					metricsAddr = e.Value
				}
			}
		}
		rewritten := ""
		for _, r := range ep[0].Relabelings {
			if r.TargetLabel == "__address__" {
				rewritten = regexp.MustCompile("^(?:"+r.Regex+")$").ReplaceAllString("10.0.0.7:8080", r.Replacement)
			}
		}
		switch {
		case metricsAddr == "" && rewritten != "":
			t.Errorf("Service %s serves /metrics on its port, but its PodMonitor moves the address to %s", name, rewritten)
		case metricsAddr != "" && rewritten != "10.0.0.7"+metricsAddr:
			t.Errorf("Service %s serves /metrics on %s, its PodMonitor scrapes %q", name, metricsAddr, rewritten)
		}
	}
	var knative []string
	for _, m := range monitors {
		if m.Kind == "ServiceMonitor" && m.Metadata.Namespace == "knative-serving" {
			for _, app := range []string{"autoscaler", "activator"} {
				if selects(m, map[string]string{"app": app}) && len(m.Spec.Endpoints) == 1 && m.Spec.Endpoints[0].Port == "http-metrics" {
					knative = append(knative, app)
				}
			}
		}
	}
	if !slices.Equal(knative, []string{"autoscaler", "activator"}) {
		t.Errorf("Knative's metrics scraped from %v, want the autoscaler and the activator on http-metrics", knative)
	}
}
