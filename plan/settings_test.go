package plan

import (
	"math"
	"strings"
	"testing"
	"time"

	asconfig "knative.dev/serving/pkg/autoscaler/config"
)

// TestSettingsRefused: settings Knative's webhook or config parsing refuses
// are refused with Knative's own message; unknown keys are never ignored.
func TestSettingsRefused(t *testing.T) {
	ann := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[Annotation(kv[i])] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		s    Settings
		want string
	}{
		{Settings{Annotations: ann("target", "-1")}, "target -1 should be at least 0.01: metadata.annotations.autoscaling.knative.dev/target"},
		{Settings{Annotations: ann("min-scale", "5", "max-scale", "2")}, "max-scale=2 is less than min-scale=5"},
		{Settings{Annotations: ann("window", "3s")}, "expected 6s <= 3s <= 1h0m0s: metadata.annotations.autoscaling.knative.dev/window"},
		{Settings{Annotations: ann("panic-threshold-percentage", "50")}, "expected 110 <= 50 <= 1000"},
		{Settings{Annotations: ann("class", "hpa.autoscaling.knative.dev")}, "only the KPA"},
		{Settings{Annotations: ann("targt", "2")}, `annotation "autoscaling.knative.dev/targt": not an autoscaling annotation Knative reads`},
		{Settings{ContainerConcurrency: -1}, "expected 0 <= -1 <= 1000: spec.containerConcurrency"},
		{Settings{Config: map[string]string{"max-scale-down-rate": "1"}}, "max-scale-down-rate = 1, must be greater than 1.0"},
		{Settings{Config: map[string]string{"stable-windw": "70s"}}, `config-autoscaler key "stable-windw": unknown`},
		{Settings{Config: map[string]string{"pod-autoscaler-class": "hpa.autoscaling.knative.dev"}}, "only the KPA"},
		{Settings{PodStart: time.Second, PodStartJitter: 2 * time.Second}, "pod start jitter 2s"},
		{Settings{Cores: -1}, "cores -1"},
		// Below 1m a request's end overflowed Duration into the past and
		// the replay never ended.
		{Settings{Cores: 1e-300}, "cores 1e-300: must be finite and at least 0.001 (1m)"},
		{Settings{Cores: math.NaN()}, "cores NaN: must be finite"},
		{Settings{Cores: math.Inf(1)}, "cores +Inf: must be finite"},
		// A pod's ready time overflowed into the past: a replay with no pod
		// ever ready served every request and settled.
		{Settings{PodStart: 2562047 * time.Hour, PodStartJitter: 2562046 * time.Hour}, "pod start 2562047h0m0s: must be at most 168h0m0s"},
		{Settings{Drain: 169 * time.Hour}, "drain 169h0m0s: must be at most 168h0m0s"},
		// Knative's validation lets NaN and infinities through: the replay
		// then had no pod serve any request and reported latencies of 0.
		{Settings{Annotations: ann("target", "NaN")}, `annotation "autoscaling.knative.dev/target": NaN is not a finite number`},
		{Settings{Annotations: ann("target-utilization-percentage", "+Inf")}, "+Inf is not a finite number"},
		{Settings{Config: map[string]string{"container-concurrency-target-default": "nan"}}, `config-autoscaler key "container-concurrency-target-default": nan is not a finite number`},
	}
	for _, tt := range tests {
		_, err := tt.s.compile()
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "plan: ") {
			t.Errorf("%+v: error %v, want %q", tt.s, err, tt.want)
		}
	}
}

// TestConfigKeysAreKnatives: every config key the planner accepts is one
// Knative's config parser reads (a bad value for it is refused).
func TestConfigKeysAreKnatives(t *testing.T) {
	for _, k := range ConfigKeys() {
		if k == "pod-autoscaler-class" {
			cfg, err := asconfig.NewConfigFromMap(map[string]string{k: "x"})
			if err != nil || cfg.PodAutoscalerClass != "x" {
				t.Errorf("%s not read: %v", k, err)
			}
			continue
		}
		if _, err := asconfig.NewConfigFromMap(map[string]string{k: "not-a-value"}); err == nil {
			t.Errorf("config key %q: a bad value is accepted: Knative does not read it", k)
		}
	}
}

// TestResolvedSettings: the decider and metric Knative builds from the
// annotations (soft target = min(target, cc) x utilisation, panic window =
// 10% of the stable window, defaults from config-autoscaler).
func TestResolvedSettings(t *testing.T) {
	tests := []struct {
		s                                    Settings
		target, total, stable, panicW, thres float64
		lo, hi                               int32
	}{
		{Settings{}, 70, 100, 60, 6, 2, 0, 0},
		{Settings{Annotations: map[string]string{Annotation("target"): "2"}, ContainerConcurrency: 4}, 1.4, 2, 60, 6, 2, 0, 0},
		{Settings{Annotations: map[string]string{Annotation("target"): "8"}, ContainerConcurrency: 4}, 2.8, 4, 60, 6, 2, 0, 0},
		{Settings{Annotations: map[string]string{Annotation("window"): "20s", Annotation("target-utilization-percentage"): "100",
			Annotation("panic-threshold-percentage"): "300", Annotation("min-scale"): "1", Annotation("max-scale"): "9"}, ContainerConcurrency: 4}, 4, 4, 20, 2, 3, 1, 9},
		{Settings{Config: map[string]string{"stable-window": "30s", "panic-window-percentage": "20"}}, 70, 100, 30, 6, 2, 0, 0},
		{Settings{Annotations: map[string]string{Annotation("minScale"): "2"}}, 70, 100, 60, 6, 2, 2, 0},
	}
	for _, tt := range tests {
		rev, err := tt.s.compile()
		if err != nil {
			t.Fatalf("%+v: %v", tt.s, err)
		}
		r := resolve(tt.s, rev)
		if math.Abs(r.Target-tt.target) > 1e-12 || r.Total != tt.total || r.StableWindow != tt.stable ||
			r.PanicWindow != tt.panicW || r.PanicThreshold != tt.thres || r.MinScale != tt.lo || r.MaxScale != tt.hi {
			t.Errorf("%+v: resolved %+v", tt.s, r)
		}
		if r.MaxScaleDownRate != 2 || r.MaxScaleUpRate != 1000 || r.TargetBurstCapacity != 211 || r.ScaleToZeroGrace != 30 ||
			r.PodStart != 3 || r.Cores != 1 || r.Drain != 30 {
			t.Errorf("defaults: %+v", r)
		}
	}
}
