package knative_test

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	netapi "knative.dev/networking/pkg/apis/networking"
	"knative.dev/serving/pkg/apis/autoscaling"
	"knative.dev/serving/pkg/apis/serving"
	"sigs.k8s.io/yaml"

	"github.com/pricefn/pricefn/events/broker"
	"github.com/pricefn/pricefn/knative"
)

// funcYAML is the part of Knative Functions' func.yaml (specVersion
// 0.36.0) that the root func.yaml uses; decoding is strict, so a key that
// is not in func's schema (or misspelt) fails the test.
type funcYAML struct {
	SpecVersion string `json:"specVersion"`
	Name        string `json:"name"`
	Runtime     string `json:"runtime"`
	Namespace   string `json:"namespace"`
	Created     string `json:"created"`
	Invoke      string `json:"invoke"`
	Build       struct {
		Builder string `json:"builder"`
	} `json:"build"`
	Run struct {
		Envs []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"envs"`
		Volumes []struct {
			Secret string `json:"secret"`
			Path   string `json:"path"`
		} `json:"volumes"`
	} `json:"run"`
	Deploy struct {
		Namespace string `json:"namespace"`
		Labels    []struct {
			Key   string `json:"key"`
			Value string `json:"value"`
		} `json:"labels"`
		Annotations     map[string]string `json:"annotations"`
		HealthEndpoints struct {
			Liveness  string `json:"liveness"`
			Readiness string `json:"readiness"`
		} `json:"healthEndpoints"`
		Options struct {
			Scale struct {
				Min         *int32   `json:"min"`
				Max         *int32   `json:"max"`
				Metric      string   `json:"metric"`
				Target      *float64 `json:"target"`
				Utilization *float64 `json:"utilization"`
			} `json:"scale"`
			Resources struct {
				Requests struct {
					CPU    string `json:"cpu"`
					Memory string `json:"memory"`
				} `json:"requests"`
				Limits struct {
					CPU         string `json:"cpu"`
					Memory      string `json:"memory"`
					Concurrency *int64 `json:"concurrency"`
				} `json:"limits"`
			} `json:"resources"`
		} `json:"options"`
		Subscriptions []struct {
			Source  string            `json:"source"`
			Filters map[string]string `json:"filters"`
		} `json:"subscriptions"`
	} `json:"deploy"`
}

// TestFuncYAML checks the root func.yaml against the pricer's Service and
// its Trigger in knative/: func deploy must make the same Service (scale,
// target, utilization, window, scale-down delay, metric, limits,
// containerConcurrency, visibility, Secrets, probes) and the same
// subscription.
func TestFuncYAML(t *testing.T) {
	data, err := os.ReadFile("../func.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var f funcYAML
	if err := yaml.UnmarshalStrict(data, &f); err != nil {
		t.Fatalf("func.yaml: %v", err)
	}
	var pricer *corev1.Container
	svcs := knativeServices(t, manifestFiles(t))
	for _, s := range svcs {
		if s.Name != f.Name {
			continue
		}
		admit(s)
		tmpl := s.Spec.Template
		pricer = &tmpl.Spec.Containers[0]
		if f.SpecVersion != "0.36.0" || f.Runtime != "go" || f.Invoke != "cloudevent" || f.Created == "" {
			t.Errorf("func.yaml: specVersion %q runtime %q invoke %q created %q", f.SpecVersion, f.Runtime, f.Invoke, f.Created)
		}
		if f.Namespace != s.Namespace || f.Deploy.Namespace != s.Namespace {
			t.Errorf("namespace %q / deploy.namespace %q, want %s", f.Namespace, f.Deploy.Namespace, s.Namespace)
		}
		sc := f.Deploy.Options.Scale
		ann := tmpl.Annotations
		want := func(what, got, wantV string) {
			t.Helper()
			if got != wantV {
				t.Errorf("%s: func.yaml %q, manifest %q", what, got, wantV)
			}
		}
		i32 := func(p *int32) string {
			if p == nil {
				return ""
			}
			return strconv.Itoa(int(*p))
		}
		f64 := func(p *float64) string {
			if p == nil {
				return ""
			}
			return strconv.FormatFloat(*p, 'f', -1, 64)
		}
		want("scale.min", i32(sc.Min), ann[autoscaling.MinScaleAnnotationKey])
		want("scale.max", i32(sc.Max), ann[autoscaling.MaxScaleAnnotationKey])
		want("scale.target", f64(sc.Target), ann[autoscaling.TargetAnnotationKey])
		want("scale.metric", sc.Metric, ann[autoscaling.MetricAnnotationKey])
		// func writes scale.utilization as the annotation: the manifest's,
		// or Knative's default, 70%.
		utilization, set := ann[autoscaling.TargetUtilizationPercentageKey]
		if !set {
			utilization = "70"
		}
		want("scale.utilization", f64(sc.Utilization), utilization)
		// The knobs func's scale options lack go in deploy.annotations.
		for _, k := range []string{autoscaling.ClassAnnotationKey, autoscaling.WindowAnnotationKey, autoscaling.ScaleDownDelayAnnotationKey} {
			want(k, f.Deploy.Annotations[k], ann[k])
		}
		want(netapi.IngressClassAnnotationKey, f.Deploy.Annotations[netapi.IngressClassAnnotationKey], s.Annotations[netapi.IngressClassAnnotationKey])
		res := f.Deploy.Options.Resources
		want("requests.cpu", res.Requests.CPU, pricer.Resources.Requests.Cpu().String())
		want("requests.memory", res.Requests.Memory, pricer.Resources.Requests.Memory().String())
		want("limits.memory", res.Limits.Memory, pricer.Resources.Limits.Memory().String())
		if res.Limits.Concurrency == nil || tmpl.Spec.ContainerConcurrency == nil || *res.Limits.Concurrency != *tmpl.Spec.ContainerConcurrency {
			t.Errorf("limits.concurrency %s, containerConcurrency %s", fmt.Sprint(deref(res.Limits.Concurrency)), fmt.Sprint(deref(tmpl.Spec.ContainerConcurrency)))
		}
		labels := map[string]string{}
		for _, l := range f.Deploy.Labels {
			labels[l.Key] = l.Value
		}
		if labels[netapi.VisibilityLabelKey] != serving.VisibilityClusterLocal || s.Labels[netapi.VisibilityLabelKey] != serving.VisibilityClusterLocal {
			t.Errorf("visibility: func.yaml labels %v, manifest labels %v", labels, s.Labels)
		}
		for k, v := range s.Labels {
			want("label "+k, labels[k], v)
		}
		want("healthEndpoints.liveness", f.Deploy.HealthEndpoints.Liveness, pricer.LivenessProbe.HTTPGet.Path)
		want("healthEndpoints.readiness", f.Deploy.HealthEndpoints.Readiness, pricer.ReadinessProbe.HTTPGet.Path)
		env := map[string]string{}
		for _, e := range f.Run.Envs {
			env[e.Name] = e.Value
		}
		manifestEnv := map[string]string{}
		for _, e := range pricer.Env {
			manifestEnv[e.Name] = e.Value
		}
		if !reflect.DeepEqual(env, manifestEnv) {
			t.Errorf("run.envs %v, manifest env %v", env, manifestEnv)
		}
		vols := map[string]string{}
		for _, v := range f.Run.Volumes {
			vols[v.Secret] = v.Path
		}
		manifestVols := map[string]string{}
		for _, m := range pricer.VolumeMounts {
			for _, v := range tmpl.Spec.Volumes {
				if v.Name == m.Name && v.Secret != nil {
					manifestVols[v.Secret.SecretName] = m.MountPath
				}
			}
		}
		if !reflect.DeepEqual(vols, manifestVols) {
			t.Errorf("run.volumes %v, manifest Secret mounts %v", vols, manifestVols)
		}
	}
	if pricer == nil {
		t.Fatalf("func.yaml names %q: no such Service in knative/", f.Name)
	}
	m, err := broker.LoadManifest(knative.Manifests(), broker.DefaultName)
	if err != nil {
		t.Fatal(err)
	}
	var subs []string
	for _, tr := range m.Triggers {
		if tr.Subscriber.Ref.Name == f.Name {
			subs = append(subs, tr.Name)
			if len(f.Deploy.Subscriptions) != 1 || f.Deploy.Subscriptions[0].Source != m.Broker ||
				!reflect.DeepEqual(f.Deploy.Subscriptions[0].Filters, tr.Filter) {
				t.Errorf("subscriptions %+v, want one on broker %s with filters %v (Trigger %s)", f.Deploy.Subscriptions, m.Broker, tr.Filter, tr.Name)
			}
		}
	}
	if len(subs) != 1 {
		t.Errorf("Triggers to %s: %v, want one", f.Name, subs)
	}
	// func makes the Trigger of subscription i NAME-function-trigger-i
	// (knative.dev/func's deployer), with no delivery: the README's patch
	// of it must name it so and give it the chunk.requested Trigger's
	// delivery. It patched pricefn-chunk-requested, which a func deploy
	// does not make, and func's Trigger kept no timeout and no
	// dead-letter sink.
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	patch := regexp.MustCompile(`(?m)^kubectl -n (\S+) patch trigger (\S+) --type merge -p '(.*)'$`)
	var patched bool
	for _, m := range patch.FindAllStringSubmatch(string(readme), -1) {
		if !strings.HasPrefix(m[2], f.Name) {
			continue
		}
		patched = true
		if m[1] != f.Deploy.Namespace || m[2] != f.Name+"-function-trigger-0" {
			t.Errorf("README patches trigger %s in %s, want func's %s-function-trigger-0 in %s", m[2], m[1], f.Name, f.Deploy.Namespace)
		}
		var got struct{ Spec map[string]any }
		if err := json.Unmarshal([]byte(m[3]), &got); err != nil {
			t.Fatalf("README's patch of %s: %v", m[2], err)
		}
		want := get(find(objects(t), "eventing.knative.dev/v1", "Trigger", subs[0]), "spec", "delivery")
		if !reflect.DeepEqual(got.Spec["delivery"], want) {
			t.Errorf("README's patch of %s gives delivery %v, want the %s Trigger's %v", m[2], got.Spec["delivery"], subs[0], want)
		}
	}
	if !patched {
		t.Errorf("README: no kubectl patch of func's Trigger %s-function-trigger-0", f.Name)
	}
}

// deref is *p, or "none" for nil.
func deref[T any](p *T) any {
	if p == nil {
		return "none"
	}
	return *p
}
