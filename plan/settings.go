package plan

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"knative.dev/networking/pkg/apis/networking"
	"knative.dev/pkg/kmap"
	"knative.dev/serving/pkg/apis/autoscaling"
	"knative.dev/serving/pkg/apis/autoscaling/v1alpha1"
	servingconfig "knative.dev/serving/pkg/apis/config"
	asconfig "knative.dev/serving/pkg/autoscaler/config"
	"knative.dev/serving/pkg/autoscaler/config/autoscalerconfig"
	"knative.dev/serving/pkg/autoscaler/scaling"
	"knative.dev/serving/pkg/deployment"
	kparesources "knative.dev/serving/pkg/reconciler/autoscaling/kpa/resources"
	aresources "knative.dev/serving/pkg/reconciler/autoscaling/resources"
)

// Defaults of the modelled parts (Knative's own settings take Knative's
// defaults, from its own code).
const (
	// DefaultPodStart is the time from a pod's creation to its being ready
	// and in the endpoints (scheduling, image, start-up, readiness probe).
	DefaultPodStart = 3 * time.Second
	// DefaultDrain is how long a deleted pod keeps running (and costing):
	// the queue-proxy's drain period.
	DefaultDrain = 30 * time.Second
	// DefaultCores is a pod's CPU, in cores.
	DefaultCores = 1.0
	// MinCores is the least CPU a pod may have: Kubernetes' resolution of
	// CPU, 1m. Below it a request's CPU time outgrows Duration's range and
	// the replay never ends.
	MinCores = 0.001
)

// Settings are a revision's autoscaling settings and how its pods behave.
// The zero value is a revision with Knative's defaults and no
// containerConcurrency limit.
type Settings struct {
	// Annotations are the revision template's annotations, full keys
	// ("autoscaling.knative.dev/target"); see Annotation for short ones.
	Annotations map[string]string
	// ContainerConcurrency is the revision's containerConcurrency: the most
	// requests a pod takes at once; 0 is no limit.
	ContainerConcurrency int64
	// Config is the config-autoscaler ConfigMap's data (e.g.
	// "max-scale-down-rate": "2"); missing keys take Knative's defaults.
	Config map[string]string
	// PodStart is a pod's time from creation to ready; 0 means
	// DefaultPodStart.
	PodStart time.Duration
	// PodStartJitter spreads each pod's start uniformly over
	// [PodStart-PodStartJitter, PodStart+PodStartJitter]; 0 is none.
	PodStartJitter time.Duration
	// Cores is a pod's CPU, shared equally by the requests it runs; 0 means
	// DefaultCores.
	Cores float64
	// Drain is how long a deleted pod lives on; 0 means DefaultDrain.
	Drain time.Duration
}

// Annotation returns the full key of an autoscaling annotation given by its
// short name ("target" -> "autoscaling.knative.dev/target"); a key with a
// "/" is returned as is.
func Annotation(key string) string {
	if strings.Contains(key, "/") {
		return key
	}
	return autoscaling.GroupName + "/" + key
}

// knownAnnotations are the autoscaling annotations Knative reads, each with
// its legacy spellings (Knative's own lists).
var knownAnnotations = []kmap.KeyPriority{
	autoscaling.ClassAnnotation, autoscaling.MetricAnnotation, autoscaling.TargetAnnotation,
	autoscaling.TargetUtilizationPercentageAnnotation, autoscaling.MinScaleAnnotation,
	autoscaling.MaxScaleAnnotation, autoscaling.InitialScaleAnnotation,
	autoscaling.ActivationScale, autoscaling.ScaleDownDelayAnnotation, autoscaling.WindowAnnotation,
	autoscaling.PanicWindowPercentageAnnotation, autoscaling.PanicThresholdPercentageAnnotation,
	autoscaling.TargetBurstCapacityAnnotation, autoscaling.ScaleToZeroPodRetentionPeriodAnnotation,
	autoscaling.MetricAggregationAlgorithmAnnotation,
}

// AnnotationNames returns the short names of the autoscaling annotations
// Knative reads (current spellings), sorted.
func AnnotationNames() []string {
	var out []string
	for _, k := range knownAnnotations {
		out = append(out, strings.TrimPrefix(k.Key(), autoscaling.GroupName+"/"))
	}
	slices.Sort(out)
	return out
}

// configKeys are the config-autoscaler keys that asconfig.NewConfigFromMap
// reads; TestConfigKeysAreKnatives checks each against it.
var configKeys = []string{
	"activator-capacity", "allow-zero-initial-scale", "container-concurrency-target-default",
	"container-concurrency-target-percentage", "enable-scale-to-zero", "initial-scale",
	"max-scale", "max-scale-down-rate", "max-scale-limit", "max-scale-up-rate", "min-scale",
	"panic-threshold-percentage", "panic-window-percentage", "pod-autoscaler-class",
	"requests-per-second-target-default", "scale-down-delay", "scale-to-zero-grace-period",
	"scale-to-zero-pod-retention-period", "stable-window", "target-burst-capacity",
}

// ConfigKeys returns the config-autoscaler keys Knative reads, sorted.
func ConfigKeys() []string { return slices.Clone(configKeys) }

// revision is a validated Settings: the PodAutoscaler, config and the
// decider and metric Knative makes of them.
type revision struct {
	pa       *v1alpha1.PodAutoscaler
	cfg      *autoscalerconfig.Config
	decider  *scaling.Decider
	metric   *v1alpha1.Metric
	podStart time.Duration
	jitter   time.Duration
	cores    float64
	drain    time.Duration
	// floor is how many pods the idle revision keeps.
	floor int
	// activationTimeout bounds the PA's activation (progress deadline plus
	// the reconciler's 30 s buffer).
	activationTimeout time.Duration
}

// fingerprint sums up what the replay uses of r's Knative settings: two
// revisions with the same fingerprint behave the same.
func (r *revision) fingerprint() string {
	lo, hi := r.pa.ScaleBounds(r.cfg)
	ret, _ := r.pa.ScaleToZeroPodRetention()
	pd, _ := r.pa.ProgressDeadline()
	init := kparesources.GetInitialScale(r.cfg, r.pa)
	return fmt.Sprintf("%+v|%v|%v|%s|%d|%d|%v|%v|%d|%d|%+v", r.decider.Spec, r.metric.Spec, r.metric.AggregationAlgorithm(),
		r.pa.Metric(), lo, hi, ret, pd, init, r.pa.Spec.ContainerConcurrency, *r.cfg)
}

const (
	replayNamespace = "default"
	replayName      = "replay-00001"
	// scrapeService names the metric's scrape target (any non-empty name:
	// it tells the collector that pods are scraped).
	scrapeService = replayName + "-private"
)

// SettingsError is settings that Knative (or the replay) refuses, with
// its message: Replay's and Search's error for the settings they were
// given.
type SettingsError struct{ Err error }

func (e *SettingsError) Error() string { return e.Err.Error() }
func (e *SettingsError) Unwrap() error { return e.Err }

// compile validates s with Knative's own code (config-autoscaler parsing,
// the PodAutoscaler webhook validation of annotations and
// containerConcurrency) and builds the decider and metric as the KPA
// reconciler does.
func (s Settings) compile() (*revision, error) {
	for _, k := range slices.Sorted(maps.Keys(s.Config)) {
		if !slices.Contains(configKeys, k) {
			return nil, fmt.Errorf("plan: config-autoscaler key %q: unknown (known: %s)", k, strings.Join(configKeys, ", "))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(s.Config)) {
		if err := finiteNumber(s.Config[k]); err != nil {
			return nil, fmt.Errorf("plan: config-autoscaler key %q: %w", k, err)
		}
	}
	cfg, err := asconfig.NewConfigFromMap(s.Config)
	if err != nil {
		return nil, fmt.Errorf("plan: config-autoscaler: %w", err)
	}
	anns := map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(s.Annotations)) {
		v := s.Annotations[k]
		if strings.HasPrefix(k, autoscaling.GroupName+"/") && !slices.ContainsFunc(knownAnnotations, func(p kmap.KeyPriority) bool { return slices.Contains(p, k) }) {
			return nil, fmt.Errorf("plan: annotation %q: not an autoscaling annotation Knative reads (known: %s)", k, strings.Join(AnnotationNames(), ", "))
		}
		if err := finiteNumber(v); err != nil {
			return nil, fmt.Errorf("plan: annotation %q: %w", k, err)
		}
		anns[k] = v
	}
	pa := &v1alpha1.PodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{
			Namespace:   replayNamespace,
			Name:        replayName,
			Annotations: anns,
			Labels:      map[string]string{"serving.knative.dev/revision": replayName},
		},
		Spec: v1alpha1.PodAutoscalerSpec{
			ContainerConcurrency: s.ContainerConcurrency,
			ScaleTargetRef:       corev1.ObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: replayName + "-deployment"},
			Reachability:         v1alpha1.ReachabilityReachable,
			ProtocolType:         networking.ProtocolHTTP1,
		},
	}
	defaults, err := servingconfig.NewDefaultsConfigFromMap(nil)
	if err != nil {
		return nil, fmt.Errorf("plan: config-defaults: %w", err)
	}
	ctx := servingconfig.ToContext(context.Background(), &servingconfig.Config{Defaults: defaults, Autoscaler: cfg})
	if ferr := pa.Validate(ctx); ferr != nil {
		return nil, fmt.Errorf("plan: invalid settings: %w", ferr)
	}
	class := pa.Class()
	if _, _, ok := autoscaling.ClassAnnotation.Get(anns); !ok {
		class = cfg.PodAutoscalerClass
	}
	if c := class; c != autoscaling.KPA {
		return nil, fmt.Errorf("plan: autoscaling class %q: only the KPA (%s) is replayed", c, autoscaling.KPA)
	}
	r := &revision{
		pa:       pa,
		cfg:      cfg,
		decider:  kparesources.MakeDecider(pa, cfg),
		podStart: s.PodStart,
		jitter:   s.PodStartJitter,
		cores:    s.Cores,
		drain:    s.Drain,
	}
	scrape := scrapeService
	if r.decider.Spec.TargetBurstCapacity == -1 {
		scrape = "" // the activator is always in the path: pods are not scraped
	}
	r.metric = aresources.MakeMetric(pa, scrape, cfg)
	if r.podStart == 0 {
		r.podStart = DefaultPodStart
	}
	if r.cores == 0 {
		r.cores = DefaultCores
	}
	if r.drain == 0 {
		r.drain = DefaultDrain
	}
	switch {
	case r.podStart < 0:
		return nil, fmt.Errorf("plan: pod start %v: must be > 0", s.PodStart)
	case r.podStart > MaxSpan: // a pod's ready time overflowed into the past
		return nil, fmt.Errorf("plan: pod start %v: must be at most %v", s.PodStart, MaxSpan)
	case r.jitter < 0 || r.jitter >= r.podStart:
		return nil, fmt.Errorf("plan: pod start jitter %v: must be in [0, pod start %v)", s.PodStartJitter, r.podStart)
	case !(r.cores >= MinCores) || math.IsInf(r.cores, 0): // NaN too
		return nil, fmt.Errorf("plan: cores %v: must be finite and at least %v (1m)", s.Cores, MinCores)
	case r.drain < 0:
		return nil, fmt.Errorf("plan: drain %v: must be > 0", s.Drain)
	case r.drain > MaxSpan:
		return nil, fmt.Errorf("plan: drain %v: must be at most %v", s.Drain, MaxSpan)
	}
	lo, _ := pa.ScaleBounds(cfg)
	r.floor = int(lo)
	if !cfg.EnableScaleToZero {
		r.floor = max(r.floor, 1)
	}
	pd, ok := pa.ProgressDeadline()
	if !ok {
		pd = deployment.ProgressDeadlineDefault
	}
	r.activationTimeout = pd + 30*time.Second
	return r, nil
}

// finiteNumber refuses a value that reads as a number but names no finite
// one ("NaN", "Inf", "-infinity"): Knative's parsing and validation let it
// through (every bound's comparison with NaN is false), and the autoscaler
// then wants no pod at all, which the replay reported as a plan.
func finiteNumber(v string) error {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err == nil && (math.IsNaN(f) || math.IsInf(f, 0)) {
		return fmt.Errorf("%s is not a finite number", v)
	}
	return nil
}
