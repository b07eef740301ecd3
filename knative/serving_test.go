package knative_test

import (
	"context"
	"io/fs"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	netapi "knative.dev/networking/pkg/apis/networking"
	"knative.dev/pkg/apis"
	"knative.dev/pkg/profiling"
	"knative.dev/serving/pkg/apis/autoscaling"
	"knative.dev/serving/pkg/apis/config"
	"knative.dev/serving/pkg/apis/serving"
	servingv1 "knative.dev/serving/pkg/apis/serving/v1"
	"knative.dev/serving/pkg/networking"
	"knative.dev/serving/pkg/reconciler/revision/resources"
	"sigs.k8s.io/yaml"

	"github.com/pricefn/pricefn/events/broker"
	"github.com/pricefn/pricefn/knative"
)

// kourierClass is Kourier's ingress class, which every Service asks for.
const kourierClass = "kourier.ingress.networking.knative.dev"

// knativeServices decodes every serving.knative.dev Service of files
// strictly (an unknown field is an error) into servingv1.Service.
func knativeServices(t *testing.T, files map[string]string) []*servingv1.Service {
	t.Helper()
	var out []*servingv1.Service
	for name, text := range files {
		if !strings.HasSuffix(name, ".yaml") {
			continue
		}
		for i, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(text, -1) {
			var head metav1.TypeMeta
			if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
				t.Fatalf("%s document %d: %v", name, i+1, err)
			}
			if head.APIVersion != servingv1.SchemeGroupVersion.String() || head.Kind != "Service" {
				continue
			}
			svc := &servingv1.Service{}
			if err := yaml.UnmarshalStrict([]byte(doc), svc); err != nil {
				t.Errorf("%s document %d: not a strict servingv1.Service: %v", name, i+1, err)
				continue
			}
			out = append(out, svc)
		}
	}
	return out
}

// admit does what Knative's webhook does to a Service being created:
// SetDefaults, then Validate with the default configuration (config-
// defaults, config-features, config-autoscaler). It returns the errors and
// the warnings, each nil when there is none.
func admit(svc *servingv1.Service) (errs, warnings *apis.FieldError) {
	ctx := apis.WithinCreate(context.Background())
	svc.SetDefaults(ctx)
	fe := svc.Validate(ctx)
	return fe.Filter(apis.ErrorLevel), fe.Filter(apis.WarningLevel)
}

// manifestFiles returns knative/*.yaml by name.
func manifestFiles(t *testing.T) map[string]string {
	t.Helper()
	files := map[string]string{}
	names, err := fs.Glob(knative.Manifests(), "*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		data, err := fs.ReadFile(knative.Manifests(), n)
		if err != nil {
			t.Fatal(err)
		}
		files[n] = string(data)
	}
	return files
}

// intent is what a Service is meant to be: its autoscaling and limits.
// utilization (the fraction of target the KPA aims at), window (the stable
// window) and scaleDownDelay are what the KPA uses: the annotation, else
// config-autoscaler's default (0.7, 60s, 0s).
type intent struct {
	minScale, maxScale   int32
	target               float64
	utilization          float64
	containerConcurrency int64
	timeoutSeconds       int64
	clusterLocal         bool
	window               time.Duration
	scaleDownDelay       time.Duration
}

// intended are the settings of knative/ (the chart's defaults).
var intended = map[string]intent{
	// The front door keeps a pod up; its target is below its hard limit.
	"pricefn-api": {minScale: 1, maxScale: 10, target: 4, utilization: 0.7, containerConcurrency: 8, timeoutSeconds: 120, window: time.Minute},
	// Event receivers scale to zero and are reachable only in the cluster.
	"pricefn-ingress": {minScale: 0, maxScale: 10, target: 2, utilization: 0.7, containerConcurrency: 2, timeoutSeconds: 120, clusterLocal: true, window: time.Minute},
	// The pricer's settings are what pricefn plan chose (charts/pricefn/
	// values.yaml): aim at the 2 chunks a pod takes, a 6 s window and no
	// scale-down delay, at most 20 pods.
	"pricefn-pricer":     {minScale: 0, maxScale: 20, target: 2, utilization: 1, containerConcurrency: 2, timeoutSeconds: 50, clusterLocal: true, window: 6 * time.Second},
	"pricefn-aggregator": {minScale: 0, maxScale: 10, target: 50, utilization: 0.7, containerConcurrency: 0, timeoutSeconds: 60, clusterLocal: true, window: time.Minute},
}

// TestKnativeAdmitsServices puts every Knative Service of knative/ and of
// the chart's production-like render through Knative Serving's own
// defaulting and validation (the webhook's rules), and fails on any error
// or warning.
func TestKnativeAdmitsServices(t *testing.T) {
	for _, set := range []struct {
		name  string
		files map[string]string
	}{
		{"knative/", manifestFiles(t)},
		{"chart with ci/production-values.yaml", mustRender(t, readValues(t, productionValues))},
	} {
		svcs := knativeServices(t, set.files)
		if len(svcs) != 4 {
			t.Errorf("%s: %d Knative Services, want 4 (api, ingress, pricer, aggregator)", set.name, len(svcs))
		}
		for _, svc := range svcs {
			errs, warnings := admit(svc)
			if errs != nil {
				t.Errorf("%s: Service %s refused by Knative's validation: %v", set.name, svc.Name, errs)
			}
			if warnings != nil {
				t.Errorf("%s: Service %s: Knative's validation warns: %v", set.name, svc.Name, warnings)
			}
		}
	}
}

// TestAutoscalingContract checks each Service of knative/ against its
// intent through the PodAutoscaler that Knative's revision reconciler
// makes of it (resources.MakePA) and reads back with the library's
// accessors: KPA class, concurrency metric, target, target utilization,
// scale bounds, containerConcurrency, stable window, scale-down delay. It
// also checks what Knative does not: cluster-local visibility of the event
// receivers, Kourier's ingress class, requests and limits, timeouts above
// the Triggers' attempt timeouts, and no setting that listens on a port
// the queue-proxy holds.
func TestAutoscalingContract(t *testing.T) {
	checkContract(t, manifestFiles(t), intended)
}

// checkContract checks the Knative Services of files against want (nil:
// the rules only, not the numbers), with the Triggers of files.
func checkContract(t *testing.T, files map[string]string, want map[string]intent) {
	t.Helper()
	asCfg := config.FromContextOrDefaults(context.Background()).Autoscaler
	triggerTimeouts := triggerTimeouts(t, files)
	svcs := knativeServices(t, files)
	if len(svcs) != 4 {
		t.Errorf("%d Knative Services, want 4", len(svcs))
	}
	for _, svc := range svcs {
		if errs, _ := admit(svc); errs != nil {
			t.Errorf("%s: %v", svc.Name, errs)
			continue
		}
		tmpl := svc.Spec.Template
		rev := &servingv1.Revision{
			ObjectMeta: metav1.ObjectMeta{Name: svc.Name + "-00001", Namespace: svc.Namespace, Labels: tmpl.Labels, Annotations: tmpl.Annotations},
			Spec:       tmpl.Spec,
		}
		pa := resources.MakePA(rev, nil)
		target, hasTarget := pa.Target()
		minScale, maxScale := pa.ScaleBounds(asCfg)
		if pa.Class() != autoscaling.KPA || pa.Metric() != autoscaling.Concurrency {
			t.Errorf("%s: PodAutoscaler class %q metric %q, want %q on %q", svc.Name, pa.Class(), pa.Metric(), autoscaling.KPA, autoscaling.Concurrency)
		}
		if !hasTarget || target <= 0 {
			t.Errorf("%s: no %s", svc.Name, autoscaling.TargetAnnotationKey)
		}
		if maxScale <= 0 || minScale > maxScale {
			t.Errorf("%s: scale bounds %d..%d, want a bounded max-scale at or above min-scale", svc.Name, minScale, maxScale)
		}
		cc := pa.Spec.ContainerConcurrency
		if cc > 0 && target > float64(cc) {
			t.Errorf("%s: target %g above containerConcurrency %d: the KPA would use %d", svc.Name, target, cc, cc)
		}
		clusterLocal := svc.Labels[netapi.VisibilityLabelKey] == serving.VisibilityClusterLocal
		if got := svc.Annotations[netapi.IngressClassAnnotationKey]; got != kourierClass {
			t.Errorf("%s: %s %q, want %s", svc.Name, netapi.IngressClassAnnotationKey, got, kourierClass)
		}
		// Scale to zero where the Service is an event receiver: the
		// activator holds deliveries while a pod starts, and the Broker
		// retries for 63.5 s.
		if clusterLocal && minScale != 0 {
			t.Errorf("%s: min-scale %d, want 0 for an event receiver", svc.Name, minScale)
		}
		if w, ok := want[svc.Name]; want != nil {
			if !ok {
				t.Errorf("unexpected Service %s", svc.Name)
				continue
			}
			utilization, ok := pa.TargetUtilization()
			if !ok {
				utilization = asCfg.ContainerConcurrencyTargetFraction
			}
			window, ok := pa.Window()
			if !ok {
				window = asCfg.StableWindow
			}
			delay, ok := pa.ScaleDownDelay()
			if !ok {
				delay = asCfg.ScaleDownDelay
			}
			got := intent{minScale: minScale, maxScale: maxScale, target: target, utilization: utilization, containerConcurrency: cc,
				timeoutSeconds: *tmpl.Spec.TimeoutSeconds, clusterLocal: clusterLocal, window: window, scaleDownDelay: delay}
			if got != w {
				t.Errorf("%s: %+v, want %+v", svc.Name, got, w)
			}
		}
		timeout := time.Duration(*tmpl.Spec.TimeoutSeconds) * time.Second
		for trigger, d := range triggerTimeouts[svc.Name] {
			if d >= timeout {
				t.Errorf("%s: Trigger %s attempt timeout %v, want it below timeoutSeconds %v", svc.Name, trigger, d, timeout)
			}
		}
		if len(tmpl.Spec.Containers) != 1 {
			t.Errorf("%s: %d containers, want 1", svc.Name, len(tmpl.Spec.Containers))
			continue
		}
		c := tmpl.Spec.Containers[0]
		req, lim := c.Resources.Requests, c.Resources.Limits
		if req.Cpu().IsZero() || req.Memory().IsZero() || lim.Memory().IsZero() || req.Memory().Cmp(*lim.Memory()) > 0 {
			t.Errorf("%s: resources %v, want cpu and memory requests and a memory limit above the request", svc.Name, c.Resources)
		}
		checkPorts(t, svc.Name, c)
	}
}

// triggerTimeouts returns the attempt timeout of every Trigger of files
// by subscriber and Trigger name.
func triggerTimeouts(t *testing.T, files map[string]string) map[string]map[string]time.Duration {
	t.Helper()
	fsys := fstest.MapFS{}
	for name, text := range files {
		if strings.HasSuffix(name, ".yaml") {
			fsys[name] = &fstest.MapFile{Data: []byte(text)}
		}
	}
	m, err := broker.LoadManifest(fsys, broker.DefaultName)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]time.Duration{}
	for _, tr := range m.Triggers {
		sched, err := m.DeliveryOf(tr).Schedule()
		if err != nil {
			t.Fatal(err)
		}
		svc := tr.Subscriber.Ref.Name
		if out[svc] == nil {
			out[svc] = map[string]time.Duration{}
		}
		out[svc][tr.Name] = sched.Timeout
	}
	return out
}

// reservedPorts are the ports the queue-proxy (and profiling) listen on
// in every Knative pod, the ones Knative refuses as a containerPort.
var reservedPorts = map[int]string{
	networking.BackendHTTPPort:             "queue-proxy HTTP",
	networking.BackendHTTP2Port:            "queue-proxy HTTP/2",
	networking.QueueAdminPort:              "queue-proxy admin",
	networking.AutoscalingQueueMetricsPort: "queue-proxy autoscaling metrics",
	networking.UserQueueMetricsPort:        "queue-proxy user metrics",
	profiling.ProfilingPort:                "profiling",
}

// checkPorts fails when an address setting (PRICEFN_*_ADDR) listens on a
// port the queue-proxy holds in the same pod (Knative checks only
// containerPort), or on the container's own port.
func checkPorts(t *testing.T, name string, c corev1.Container) {
	t.Helper()
	for _, e := range c.Env {
		if !strings.HasSuffix(e.Name, "_ADDR") {
			continue
		}
		_, p, err := net.SplitHostPort(e.Value)
		port, perr := strconv.Atoi(p)
		if err != nil || perr != nil {
			t.Errorf("%s: %s=%q is not HOST:PORT", name, e.Name, e.Value)
			continue
		}
		if what, ok := reservedPorts[port]; ok {
			t.Errorf("%s: %s=%q collides with the %s port of every Knative pod", name, e.Name, e.Value, what)
		}
		if len(c.Ports) == 1 && int32(port) == c.Ports[0].ContainerPort {
			t.Errorf("%s: %s=%q is the function's own port", name, e.Name, e.Value)
		}
	}
}

// TestKnativeRefuses shows that the validation above has teeth: each
// change breaks a rule Knative's webhook enforces, and is refused with a
// message naming the field.
func TestKnativeRefuses(t *testing.T) {
	base := knativeServices(t, manifestFiles(t))
	var pricer *servingv1.Service
	for _, s := range base {
		if s.Name == "pricefn-pricer" {
			pricer = s
		}
	}
	if pricer == nil {
		t.Fatal("no pricefn-pricer")
	}
	for _, tt := range []struct {
		name   string
		change func(*servingv1.Service)
		want   string
	}{
		{"containerConcurrency above the limit", func(s *servingv1.Service) {
			cc := int64(config.DefaultMaxRevisionContainerConcurrency + 1)
			s.Spec.Template.Spec.ContainerConcurrency = &cc
		}, "spec.template.spec.containerConcurrency"},
		{"timeout above the maximum", func(s *servingv1.Service) {
			ts := int64(config.DefaultMaxRevisionTimeoutSeconds + 1)
			s.Spec.Template.Spec.TimeoutSeconds = &ts
		}, "spec.template.spec.timeoutSeconds"},
		{"min-scale above max-scale", func(s *servingv1.Service) {
			s.Spec.Template.Annotations[autoscaling.MinScaleAnnotationKey] = "60"
		}, autoscaling.MinScaleAnnotationKey},
		{"unknown metric for the KPA", func(s *servingv1.Service) {
			s.Spec.Template.Annotations[autoscaling.MetricAnnotationKey] = autoscaling.CPU
		}, autoscaling.MetricAnnotationKey},
		{"two ports", func(s *servingv1.Service) {
			c := &s.Spec.Template.Spec.Containers[0]
			c.Ports = append(c.Ports, corev1.ContainerPort{Name: "metrics", ContainerPort: 9464})
		}, "ports"},
		{"a reserved port", func(s *servingv1.Service) {
			s.Spec.Template.Spec.Containers[0].Ports[0].ContainerPort = networking.AutoscalingQueueMetricsPort
		}, "reserved port"},
		{"a mount of no volume", func(s *servingv1.Service) {
			s.Spec.Template.Spec.Volumes = nil
		}, "volumeMounts"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := pricer.DeepCopy()
			tt.change(s)
			errs, _ := admit(s)
			if errs == nil || !strings.Contains(errs.Error(), tt.want) {
				t.Errorf("got %v, want an error naming %q", errs, tt.want)
			}
		})
	}
	// Unknown fields are refused by the strict decoding.
	doc := regexp.MustCompile(`(?m)^---\s*$`).Split(manifestFiles(t)["services.yaml"], -1)[2]
	doc = strings.Replace(doc, "\n      containerConcurrency: ", "\n      maxConcurrency: 4\n      containerConcurrency: ", 1)
	var s servingv1.Service
	if err := yaml.UnmarshalStrict([]byte(doc), &s); err == nil || !strings.Contains(err.Error(), "maxConcurrency") {
		t.Errorf("unknown field: %v, want an error naming maxConcurrency", err)
	}
	if s.Name != "" && s.Name != "pricefn-pricer" {
		t.Errorf("document 3 is %s, want the pricer", s.Name)
	}
}
