package plan

import (
	"os"
	"strings"
	"testing"
)

// TestServiceSettings reads the pricer's settings from (a copy of) the
// project's knative/services.yaml.
func TestServiceSettings(t *testing.T) {
	data, err := os.ReadFile("testdata/services.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := ServiceSettings(data, "pricefn-pricer")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"autoscaling.knative.dev/target":           "2",
		"autoscaling.knative.dev/max-scale":        "50",
		"autoscaling.knative.dev/scale-down-delay": "30s",
		"autoscaling.knative.dev/metric":           "concurrency",
	}
	for k, v := range want {
		if s.Annotations[k] != v {
			t.Errorf("%s = %q, want %q", k, s.Annotations[k], v)
		}
	}
	if s.ContainerConcurrency != 4 || s.Cores != 1 {
		t.Errorf("containerConcurrency %d cores %g, want 4 and 1", s.ContainerConcurrency, s.Cores)
	}
	rev, err := s.compile()
	if err != nil {
		t.Fatal(err)
	}
	if r := resolve(s, rev); r.MaxScale != 50 || r.ScaleDownDelay != 30 {
		t.Errorf("resolved %+v", r)
	}

	for _, tt := range []struct{ name, want string }{
		{"", "several Services (pricefn-ingress, pricefn-pricer, pricefn-aggregator): name one"},
		{"nope", `no Service "nope" in the file (it has pricefn-ingress, pricefn-pricer, pricefn-aggregator)`},
	} {
		if _, err := ServiceSettings(data, tt.name); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("name %q: %v, want %q", tt.name, err, tt.want)
		}
	}
	if _, err := ServiceSettings([]byte("apiVersion: v1\nkind: ConfigMap\n"), ""); err == nil || !strings.Contains(err.Error(), "no Knative Service") {
		t.Errorf("no service: %v", err)
	}
	one := "apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata: {name: x}\nspec:\n  template:\n    spec:\n      containers:\n      - image: i\n        resources: {limits: {cpu: 1500m}, requests: {cpu: 500m}}\n"
	if s, err := ServiceSettings([]byte(one), ""); err != nil || s.Cores != 1.5 || s.ContainerConcurrency != 0 {
		t.Errorf("one service: %+v %v, want 1.5 cores (the limit)", s, err)
	}
}
