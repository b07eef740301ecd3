package knative_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/redis/go-redis/v9"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	appsv1 "k8s.io/api/apps/v1"
	"knative.dev/pkg/apis"
	"knative.dev/serving/pkg/apis/autoscaling"
	servingv1 "knative.dev/serving/pkg/apis/serving/v1"
	servingv1beta1 "knative.dev/serving/pkg/apis/serving/v1beta1"
	"sigs.k8s.io/yaml"

	"github.com/pricefn/pricefn/auth"
	"github.com/pricefn/pricefn/config"
	"github.com/pricefn/pricefn/events/broker"
)

// The chart is the one source of the manifests: knative/*.yaml are its
// output for the default values, checked in so that kubectl, ko and
// "pricefn broker" read plain files. go test ./knative -update writes them
// again after the chart changed.
var update = flag.Bool("update", false, "write knative/*.yaml from the chart's default render")

const (
	chartDir = "../charts/pricefn"
	// productionValues is the chart's production-like example.
	productionValues = "../charts/pricefn/ci/production-values.yaml"
	// kubeVersion is the Kubernetes the chart is rendered for (that of
	// make cluster-test).
	kubeVersion = "v1.30.14"
	namespace   = "pricefn"
)

// generatedHeader opens every file the chart writes into knative/.
const generatedHeader = `# Generated from the Helm chart charts/pricefn with its default values (the
# objects of "helm template pricefn charts/pricefn --namespace pricefn"). Do
# not edit: edit the chart, then run go test ./knative -run TestChartIsKnative -update.

`

// loadChart loads the chart from its folder, as helm does (.helmignore
// applies).
func loadChart(t *testing.T) *chart.Chart {
	t.Helper()
	c, err := loader.Load(chartDir)
	if err != nil {
		t.Fatalf("load chart: %v", err)
	}
	return c
}

// renderChart renders c with vals (merged over the chart's defaults and
// checked against values.schema.json, as helm install does) into
// namespace, in strict mode (a missing value is an error). It returns
// each template's output by its base name (services.yaml, NOTES.txt),
// empty ones left out.
func renderChart(c *chart.Chart, vals map[string]any, ns string) (map[string]string, error) {
	caps := chartutil.DefaultCapabilities.Copy()
	kv, err := chartutil.ParseKubeVersion(kubeVersion)
	if err != nil {
		return nil, err
	}
	caps.KubeVersion = *kv
	if !chartutil.IsCompatibleRange(c.Metadata.KubeVersion, kubeVersion) {
		return nil, fmt.Errorf("chart wants Kubernetes %s, not %s", c.Metadata.KubeVersion, kubeVersion)
	}
	opts := chartutil.ReleaseOptions{Name: "pricefn", Namespace: ns, Revision: 1, IsInstall: true}
	rv, err := chartutil.ToRenderValues(c, vals, opts, caps)
	if err != nil {
		return nil, err
	}
	out, err := engine.Engine{Strict: true}.Render(c, rv)
	if err != nil {
		return nil, err
	}
	files := map[string]string{}
	for name, text := range out {
		if strings.TrimSpace(text) == "" {
			continue
		}
		files[filepath.Base(name)] = text
	}
	return files, nil
}

// mustRender renders or fails the test.
func mustRender(t *testing.T, vals map[string]any) map[string]string {
	t.Helper()
	files, err := renderChart(loadChart(t), vals, namespace)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	return files
}

// readValues reads a values file.
func readValues(t *testing.T, path string) map[string]any {
	t.Helper()
	vals, err := chartutil.ReadValuesFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return vals.AsMap()
}

// docs splits rendered YAML files into objects (sorted by file name),
// strictly: a duplicate key is an error.
func docs(t *testing.T, files map[string]string) []map[string]any {
	t.Helper()
	names := make([]string, 0, len(files))
	for n := range files {
		if strings.HasSuffix(n, ".yaml") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var objs []map[string]any
	for _, n := range names {
		for i, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(files[n], -1) {
			var obj map[string]any
			if err := yaml.UnmarshalStrict([]byte(doc), &obj); err != nil {
				t.Fatalf("%s document %d: %v\n%s", n, i+1, err, doc)
			}
			if obj != nil {
				objs = append(objs, obj)
			}
		}
	}
	return objs
}

// TestChartIsKnative renders the chart with its default values and
// compares the output with knative/*.yaml, file by file and byte for
// byte: the checked-in manifests are the chart's output.
func TestChartIsKnative(t *testing.T) {
	files := mustRender(t, nil)
	if _, ok := files["NOTES.txt"]; !ok {
		t.Error("no NOTES.txt rendered")
	}
	delete(files, "NOTES.txt")
	var names []string
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	if got := strings.Join(names, ","); got != "broker.yaml,redis.yaml,secrets.yaml,services.yaml,triggers.yaml" {
		t.Errorf("default render has %s", got)
	}
	onDisk, err := filepath.Glob("*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range onDisk {
		if _, ok := files[p]; !ok {
			t.Errorf("knative/%s is not rendered by the chart: the chart is the one source of the manifests", p)
		}
	}
	for _, n := range names {
		want := generatedHeader + strings.TrimLeft(files[n], "\n")
		if !strings.HasSuffix(want, "\n") {
			want += "\n"
		}
		if *update {
			if err := os.WriteFile(n, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(n)
		if err != nil {
			t.Errorf("knative/%s: %v (go test ./knative -run TestChartIsKnative -update writes it)", n, err)
			continue
		}
		if !bytes.Equal(got, []byte(want)) {
			t.Errorf("knative/%s differs from the chart's render (edit the chart, then go test ./knative -run TestChartIsKnative -update):\n%s",
				n, firstDiff(string(got), want))
		}
	}
}

// firstDiff shows the first line where got and want differ.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d:\n  file:  %q\n  chart: %q", i+1, gl, wl)
		}
	}
	return "(same lines)"
}

// findAll returns the objects of kind (and name, when not empty).
func findAll(objs []map[string]any, kind, name string) []map[string]any {
	var out []map[string]any
	for _, o := range objs {
		if str(o, "kind") == kind && (name == "" || str(o, "metadata", "name") == name) {
			out = append(out, o)
		}
	}
	return out
}

// envOf returns the env of a Knative Service's container by name
// (valueFrom as "secret NAME/KEY").
func envOf(svc map[string]any) map[string]string {
	env := map[string]string{}
	for _, e := range asList(get(svc, "spec", "template", "spec", "containers", 0, "env")) {
		if ref := get(e, "valueFrom", "secretKeyRef"); ref != nil {
			env[str(e, "name")] = "secret " + str(ref, "name") + "/" + str(ref, "key")
			continue
		}
		env[str(e, "name")] = str(e, "value")
	}
	return env
}

// TestChartProduction renders ci/production-values.yaml: Secrets and store
// from outside the chart, no trial Redis, a Kafka Broker, a custom domain
// with TLS on Kourier, and the same rules as knative/ for every Service.
func TestChartProduction(t *testing.T) {
	files := mustRender(t, readValues(t, productionValues))
	objs := docs(t, files)
	if s := findAll(objs, "Secret", ""); len(s) != 0 {
		t.Errorf("production render creates %d Secrets, want none (they come from the secret manager)", len(s))
	}
	for _, kind := range []string{"Deployment", "PersistentVolumeClaim"} {
		if o := findAll(objs, kind, ""); len(o) != 0 {
			t.Errorf("production render has a %s: want no trial Redis", kind)
		}
	}
	b := findAll(objs, "Broker", "pricefn")
	if len(b) != 1 || str(b[0], "metadata", "annotations", "eventing.knative.dev/broker.class") != "Kafka" ||
		str(b[0], "spec", "config", "name") != "kafka-broker-config" || get(b[0], "spec", "delivery", "retry") != float64(7) {
		t.Errorf("Broker %v, want class Kafka with its config and the retry schedule", b)
	}
	dm := findAll(objs, "DomainMapping", "pricefn.example.com")
	if len(dm) != 1 || str(dm[0], "spec", "ref", "name") != "pricefn-api" || str(dm[0], "spec", "tls", "secretName") != "pricefn-example-com-tls" {
		t.Errorf("DomainMapping %v, want pricefn.example.com -> pricefn-api with its TLS Secret", dm)
	}
	const sink = "http://kafka-broker-ingress.knative-eventing.svc.cluster.local/pricefn/pricefn"
	for _, svc := range findAll(objs, "Service", "") {
		if str(svc, "apiVersion") != "serving.knative.dev/v1" {
			continue
		}
		name, env := str(svc, "metadata", "name"), envOf(svc)
		if name != "pricefn-pricer" && env["K_SINK"] != sink {
			t.Errorf("%s: K_SINK %q, want the Kafka Broker's ingress %s", name, env["K_SINK"], sink)
		}
		if name != "pricefn-pricer" && env["PRICEFN_PUBLIC_URL"] != "https://pricefn.example.com" {
			t.Errorf("%s: PRICEFN_PUBLIC_URL %q", name, env["PRICEFN_PUBLIC_URL"])
		}
		if env["PRICEFN_LOG_FORMAT"] != "json" {
			t.Errorf("%s: extra env not rendered: %v", name, env)
		}
	}
	api := findAll(objs, "Service", "pricefn-api")
	if len(api) != 1 || envOf(api[0])["PRICEFN_TENANT_MAX_BATCHES"] != "200" || envOf(api[0])["PRICEFN_STORE"] != "secret pricefn-store/store" {
		t.Errorf("api env %v", envOf(api[0]))
	}
	checkContract(t, files, productionIntended)
}

// productionIntended are the settings of the chart's render with
// ci/production-values.yaml: more pods, 2-core pricers that keep
// Knative's utilization and window (not the defaults' 100% and 6s).
var productionIntended = map[string]intent{
	"pricefn-api":        {minScale: 2, maxScale: 20, target: 4, utilization: 0.7, containerConcurrency: 8, timeoutSeconds: 120, window: time.Minute},
	"pricefn-ingress":    {minScale: 0, maxScale: 20, target: 2, utilization: 0.7, containerConcurrency: 2, timeoutSeconds: 120, clusterLocal: true, window: time.Minute},
	"pricefn-pricer":     {minScale: 0, maxScale: 200, target: 2, utilization: 0.7, containerConcurrency: 4, timeoutSeconds: 50, clusterLocal: true, window: time.Minute, scaleDownDelay: time.Minute},
	"pricefn-aggregator": {minScale: 0, maxScale: 20, target: 50, utilization: 0.7, containerConcurrency: 0, timeoutSeconds: 60, clusterLocal: true, window: time.Minute},
}

// TestChartRefuses: settings that break a rule are refused when the chart
// renders, by values.schema.json or by the templates' checks, with a
// message that names the value.
func TestChartRefuses(t *testing.T) {
	c := loadChart(t)
	for _, tt := range []struct {
		name string
		vals string
		want string
	}{
		{"containerConcurrency above Knative's limit", "services: {pricer: {containerConcurrency: 2000}}", "/services/pricer/containerConcurrency"},
		{"timeout above Knative's maximum", "services: {api: {timeoutSeconds: 900}}", "/services/api/timeoutSeconds"},
		{"target of zero", "services: {ingress: {target: 0}}", "/services/ingress/target"},
		// Knative's webhook refuses a target below 0.01: the schema let it
		// render.
		{"target below Knative's 0.01", "services: {pricer: {target: 0.005}}", "/services/pricer/target"},
		{"negative min-scale", "services: {pricer: {minScale: -1}}", "/services/pricer/minScale"},
		{"scale as a string", "services: {pricer: {maxScale: \"50\"}}", "/services/pricer/maxScale"},
		{"unknown setting", "services: {pricer: {concurrency: 4}}", "concurrency"},
		{"no memory limit", "services: {pricer: {resources: {limits: {memory: null}}}}", "/services/pricer/resources/limits"},
		{"metrics on the queue-proxy's port", "services: {api: {metricsPort: 9090}}", "/services/api/metricsPort"},
		{"env overriding the wiring", "services: {ingress: {env: {K_SINK: http://elsewhere}}}", "/services/ingress/env"},
		// config/ refuses these when the function starts: the pod
		// crash-looped.
		{"negative workers", "services: {pricer: {env: {PRICEFN_WORKERS: -1}}}", "/services/pricer/env/PRICEFN_WORKERS"},
		{"chunks of no trades", "services: {ingress: {env: {PRICEFN_CHUNK_TRADES: 0}}}", "/services/ingress/env/PRICEFN_CHUNK_TRADES"},
		{"duration with no unit", "services: {aggregator: {env: {PRICEFN_RETAIN: 30}}}", "/services/aggregator/env/PRICEFN_RETAIN"},
		{"GOMEMLIMIT not a size", "services: {pricer: {env: {GOMEMLIMIT: lots}}}", "/services/pricer/env/GOMEMLIMIT"},
		{"GOMEMLIMIT in decimal units", "services: {api: {env: {GOMEMLIMIT: 900MB}}}", "/services/api/env/GOMEMLIMIT"},
		// Names no function reads: a typo, another function's setting,
		// pricefn dev's own.
		{"misspelt setting", "services: {pricer: {env: {PRICEFN_WORKER: 2}}}", "PRICEFN_WORKER"},
		{"setting of another function", "services: {ingress: {env: {PRICEFN_WORKERS: 2}}}", "PRICEFN_WORKERS"},
		{"pricefn dev's setting", "services: {pricer: {env: {PRICEFN_INTERNAL_HTTP: true}}}", "PRICEFN_INTERNAL_HTTP"},
		{"bad backoff policy", "broker: {delivery: {backoffPolicy: fibonacci}}", "/broker/delivery/backoffPolicy"},
		{"store URL not Redis", "store: {url: 'http://redis:6379'}", "/store/url"},
		{"unpinned Redis", "redis: {image: 'redis:latest'}", "/redis/image"},
		{"Trigger timeout at the Service's", "triggers: {chunkRequested: {timeoutSeconds: 50}}", "triggers.chunkRequested.timeoutSeconds 50 must be below services.pricer.timeoutSeconds 50"},
		{"long poll outlasting the request", "services: {aggregator: {maxWaitSeconds: 60}}", "services.aggregator: maxWaitSeconds 60 must be below timeoutSeconds 60"},
		{"min-scale above max-scale", "services: {pricer: {minScale: 60}}", "services.pricer: minScale 60 above maxScale 20"},
		// Kubernetes refuses such a pod: the Revision never became ready.
		{"memory request above the limit", "services: {pricer: {resources: {requests: {memory: 2Gi}}}}",
			"services.pricer.resources: requests.memory 2Gi above limits.memory 1Gi: Kubernetes refuses the pod"},
		{"cpu request above the limit", "services: {api: {resources: {limits: {cpu: 100m}}}}",
			"services.api.resources: requests.cpu 250m above limits.cpu 100m: Kubernetes refuses the pod"},
		{"memory request above a decimal limit", "services: {ingress: {resources: {requests: {memory: 1.5G}, limits: {memory: 1400Mi}}}}",
			"services.ingress.resources: requests.memory 1.5G above limits.memory 1400Mi"},
		{"no store at all", "redis: {enabled: false}", "store: give store.url"},
		// The trial Redis's were not checked: its pod was refused.
		{"Redis memory request above the limit", "redis: {resources: {requests: {memory: 1Gi}}}",
			"redis.resources: requests.memory 1Gi above limits.memory 512Mi: Kubernetes refuses the pod"},
		{"Redis cpu request above the limit", "redis: {resources: {limits: {cpu: 50m}}}",
			"redis.resources: requests.cpu 100m above limits.cpu 50m"},
		// It was ignored: no DomainMapping, no TLS, and no word of it.
		{"TLS Secret without a domain", "kourier: {tlsSecret: pricefn-tls}", "kourier.tlsSecret pricefn-tls: no kourier.domain"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			vals, err := chartutil.ReadValues([]byte(tt.vals))
			if err != nil {
				t.Fatal(err)
			}
			_, err = renderChart(c, vals.AsMap(), namespace)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("render: %v, want an error naming %q", err, tt.want)
			}
		})
	}
}

// TestChartAutoscalingBounds: the pricer's targetUtilizationPercentage,
// window and scaleDownDelay are refused by values.schema.json where
// Knative's webhook refuses the annotation they become (utilization 1 to
// 100, window 6s to 1h, delay 0s to 1h), and where both accept a value the
// chart renders it as that annotation, on the pricer only.
func TestChartAutoscalingBounds(t *testing.T) {
	c := loadChart(t)
	var pricer *servingv1.Service
	for _, s := range knativeServices(t, manifestFiles(t)) {
		if s.Name == "pricefn-pricer" {
			pricer = s
		}
		if s.Name != "pricefn-pricer" {
			for _, k := range []string{autoscaling.TargetUtilizationPercentageKey, autoscaling.WindowAnnotationKey, autoscaling.ScaleDownDelayAnnotationKey} {
				if v, ok := s.Spec.Template.Annotations[k]; ok {
					t.Errorf("%s: %s %q, want it unset (the chart emits it only where the values set it)", s.Name, k, v)
				}
			}
		}
	}
	if pricer == nil {
		t.Fatal("no pricefn-pricer in knative/")
	}
	for _, tt := range []struct {
		value      string // the value's YAML
		annotation string // what Knative gets ("": none)
		ok         bool   // Knative admits it
	}{
		{"targetUtilizationPercentage: 0", "0", false},
		{"targetUtilizationPercentage: 0.5", "0.5", false},
		{"targetUtilizationPercentage: 1", "1", true},
		{"targetUtilizationPercentage: 70.5", "70.5", true},
		{"targetUtilizationPercentage: 100", "100", true},
		{"targetUtilizationPercentage: 101", "101", false},
		{`window: ""`, "", true},
		{"window: 0s", "0s", false},
		{"window: 5s", "5s", false},
		{"window: 6s", "6s", true},
		{"window: 90s", "90s", true},
		{"window: 3600s", "3600s", true},
		{"window: 3601s", "3601s", false},
		{"window: 60m", "60m", true},
		{"window: 61m", "61m", false},
		{"window: 1h", "1h", true},
		{"window: 2h", "2h", false},
		{"scaleDownDelay: 0s", "0s", true},
		{"scaleDownDelay: 3600s", "3600s", true},
		{"scaleDownDelay: 3601s", "3601s", false},
		{"scaleDownDelay: 61m", "61m", false},
		{"scaleDownDelay: 1h", "1h", true},
		{"scaleDownDelay: 2h", "2h", false},
	} {
		key, _, _ := strings.Cut(tt.value, ":")
		annotation := map[string]string{"targetUtilizationPercentage": autoscaling.TargetUtilizationPercentageKey,
			"window": autoscaling.WindowAnnotationKey, "scaleDownDelay": autoscaling.ScaleDownDelayAnnotationKey}[key]
		t.Run(tt.value, func(t *testing.T) {
			// Knative's verdict on the annotation, on the pricer of knative/.
			s := pricer.DeepCopy()
			delete(s.Spec.Template.Annotations, annotation)
			if tt.annotation != "" {
				s.Spec.Template.Annotations[annotation] = tt.annotation
			}
			if errs, _ := admit(s); (errs == nil) != tt.ok || (errs != nil && !strings.Contains(errs.Error(), annotation)) {
				t.Fatalf("Knative on %s=%q: %v, want admitted %v", annotation, tt.annotation, errs, tt.ok)
			}
			// The chart's.
			vals, err := chartutil.ReadValues([]byte("services: {pricer: {" + tt.value + "}}"))
			if err != nil {
				t.Fatal(err)
			}
			files, err := renderChart(c, vals.AsMap(), namespace)
			if !tt.ok {
				if err == nil || !strings.Contains(err.Error(), "/services/pricer/"+key) {
					t.Errorf("render: %v, want values.schema.json to refuse /services/pricer/%s", err, key)
				}
				return
			}
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			for _, svc := range knativeServices(t, files) {
				got, set := svc.Spec.Template.Annotations[annotation]
				want := svc.Name == "pricefn-pricer" && tt.annotation != ""
				if set != want || (want && got != tt.annotation) {
					t.Errorf("%s: %s %q (set %v), want %q only on the pricer", svc.Name, annotation, got, set, tt.annotation)
				}
				if errs, _ := admit(svc); errs != nil {
					t.Errorf("%s: %v", svc.Name, errs)
				}
			}
		})
	}
}

// TestChartMonitoring: monitoring.objects are rendered as the files say
// (a dashboard's "{{pod}}" legend is not a template), and so are the files
// of knative/monitoring when that folder exists, as make deploy-helm
// passes them (--set-file monitoring.objects.NAME=FILE), but for two
// things: an object of the namespace pricefn, the files' own, goes to the
// release's namespace (one of another, knative-serving, keeps it), and the
// API's PodMonitor scrapes services.api.metricsPort. The release here is
// in namespace "risk", the API's metrics on 9500: the files' pricefn and
// 9464 left the PodMonitors where they selected nothing.
func TestChartMonitoring(t *testing.T) {
	const ns, apiPort = "risk", 9500
	objects := map[string]any{}
	paths, err := filepath.Glob("testdata/monitoring/*.yaml")
	if err != nil || len(paths) == 0 {
		t.Fatalf("testdata/monitoring: %v %v", paths, err)
	}
	real, err := filepath.Glob("monitoring/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("knative/monitoring: %d files", len(real))
	for _, p := range append(paths, real...) {
		name := strings.TrimSuffix(filepath.Base(p), ".yaml")
		if !regexp.MustCompile(`^[A-Za-z0-9_-]+$`).MatchString(name) {
			t.Errorf("%s: the name %q cannot be a --set-file key (letters, digits, '-', '_')", p, name)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		objects[name] = string(data)
	}
	// Dashboards: every knative/monitoring/*.json, and one of testdata.
	dashboards := map[string]any{}
	jsonPaths, err := filepath.Glob("monitoring/*.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range append(jsonPaths, "testdata/monitoring/dashboard-test.json") {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		dashboards[strings.TrimSuffix(filepath.Base(p), ".json")] = string(data)
	}
	vals := readValues(t, productionValues)
	vals["monitoring"] = map[string]any{"objects": objects, "dashboards": dashboards}
	vals["services"].(map[string]any)["api"].(map[string]any)["metricsPort"] = apiPort
	files, err := renderChart(loadChart(t), vals, ns)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	text := files["monitoring.yaml"]
	if !strings.Contains(text, `{{pod}}`) {
		t.Errorf("monitoring.yaml lost the dashboard's {{pod}} legend:\n%s", text)
	}
	rendered := docs(t, map[string]string{"monitoring.yaml": text})
	var apiMonitors, otherNamespaces int
	for name, src := range objects {
		want := docs(t, map[string]string{name + ".yaml": src.(string)})
		if len(want) == 0 {
			t.Errorf("%s holds no object", name)
		}
		for _, w := range want {
			kind, oname, wns := str(w, "kind"), str(w, "metadata", "name"), str(w, "metadata", "namespace")
			switch wns {
			case "pricefn":
				w["metadata"].(map[string]any)["namespace"] = ns
			case "":
			default:
				otherNamespaces++
			}
			if kind == "PodMonitor" && str(w, "spec", "selector", "matchLabels", "app.kubernetes.io/name") == "pricefn-api" {
				found := false
				if _, ok := get(w, "spec", "podMetricsEndpoints", 0, "targetPort").(float64); ok {
					get(w, "spec", "podMetricsEndpoints", 0).(map[string]any)["targetPort"] = float64(apiPort)
					found = true
				}
				for _, r := range asList(get(w, "spec", "podMetricsEndpoints", 0, "relabelings")) {
					if str(r, "targetLabel") == "__address__" {
						if got := str(r, "replacement"); got != "${1}:9464" {
							t.Errorf("%s: PodMonitor %s: the file's address replacement %q, want ${1}:9464", name, oname, got)
						}
						r.(map[string]any)["replacement"] = fmt.Sprintf("${1}:%d", apiPort)
						found = true
					}
				}
				if !found {
					t.Errorf("%s: PodMonitor %s names no port: neither targetPort nor an __address__ rewrite", name, oname)
				}
				apiMonitors++
			}
			var got []map[string]any
			for _, r := range rendered {
				if str(r, "kind") == kind && str(r, "metadata", "name") == oname {
					got = append(got, r)
				}
			}
			if len(got) != 1 || !reflect.DeepEqual(got[0], w) {
				t.Errorf("%s: %s %s rendered as\n%v\nwant (namespace %s for pricefn, API metrics port %d)\n%v", name, kind, oname, got, ns, apiPort, w)
			}
		}
	}
	if len(real) > 0 && (apiMonitors == 0 || otherNamespaces == 0) {
		t.Errorf("knative/monitoring: %d PodMonitors of pricefn-api, %d objects in another namespace: want the API's PodMonitor and knative-serving's ServiceMonitor", apiMonitors, otherNamespaces)
	}
	for name, src := range dashboards {
		var want, got any
		if err := json.Unmarshal([]byte(src.(string)), &want); err != nil {
			t.Errorf("%s.json: %v", name, err)
			continue
		}
		cms := findAll(rendered, "ConfigMap", "pricefn-"+name)
		if len(cms) != 1 || str(cms[0], "metadata", "labels", "grafana_dashboard") != "1" {
			t.Errorf("dashboard %s: ConfigMaps %v, want pricefn-%[1]s labelled grafana_dashboard", name, cms)
			continue
		}
		if err := json.Unmarshal([]byte(str(cms[0], "data", name+".json")), &got); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("dashboard %s: the ConfigMap's JSON differs from the file (%v)", name, err)
		}
	}
	t.Logf("knative/monitoring: %d dashboards", len(jsonPaths))
	if _, ok := mustRender(t, nil)["monitoring.yaml"]; ok {
		t.Error("default render has monitoring objects, want none")
	}
}

// TestChartGoMemLimit: GOMEMLIMIT is 90% of the memory limit's whole MiB
// for every quantity values.schema.json takes. It was set only for whole
// Gi and Mi: a limit of 1.5Gi, 2G or 1000M left the functions without a
// soft heap limit (the kernel kills the pod instead), and 1Mi made it
// 0MiB, a collector that never stops.
func TestChartGoMemLimit(t *testing.T) {
	c := loadChart(t)
	for _, tt := range []struct{ memory, want string }{
		{"1Gi", "921MiB"},
		{"2Gi", "1843MiB"},
		{"100Mi", "90MiB"},
		{"1.5Gi", "1382MiB"},
		{"0.5Gi", "460MiB"},
		{"2G", "1716MiB"},   // 2e9 bytes: 1907 MiB
		{"1000M", "857MiB"}, // 1e9 bytes: 953 MiB
		{"1048576Ki", "921MiB"},
		{"1073741824", "921MiB"},
		{"1Mi", ""}, // 90% of 1 MiB is 0: none
	} {
		m := "'" + tt.memory + "'"
		vals, err := chartutil.ReadValues([]byte("services: {pricer: {resources: {requests: {memory: " + m + "}, limits: {memory: " + m + "}}}}"))
		if err != nil {
			t.Fatal(err)
		}
		files, err := renderChart(c, vals.AsMap(), namespace)
		if err != nil {
			t.Fatalf("memory %s: render: %v", tt.memory, err)
		}
		pricer := findAll(docs(t, files), "Service", "pricefn-pricer")
		if len(pricer) != 1 {
			t.Fatalf("memory %s: %d pricers", tt.memory, len(pricer))
		}
		got, set := envOf(pricer[0])["GOMEMLIMIT"]
		if got != tt.want || set != (tt.want != "") {
			t.Errorf("memory limit %s: GOMEMLIMIT %q (set %v), want %q", tt.memory, got, set, tt.want)
		}
	}
}

// TestChartChunkCost: a chunk cost (PRICEFN_CHUNK_COST of api or ingress,
// which split batches) whose chunks a pricer pod cannot price within the
// chunk.requested Trigger's attempt timeout is refused, naming the values;
// one that fits renders. A pricer prices containerConcurrency chunks at
// once on its requests.cpu cores. PRICEFN_CHUNK_COST: 60s rendered: every
// chunk's attempts timed out at 40 s, the pricers priced each chunk 8
// times, and every chunk was dead-lettered.
func TestChartChunkCost(t *testing.T) {
	c := loadChart(t)
	for _, tt := range []struct {
		vals string
		want string // "": renders
	}{
		{"services: {ingress: {env: {PRICEFN_CHUNK_COST: 60s}}}",
			"services.ingress.env.PRICEFN_CHUNK_COST 60s: chunks of 60s of one core, 2 at once on a pricer of 1 cores (services.pricer containerConcurrency, requests.cpu), take 120.0 s each, at or above triggers.chunkRequested.timeoutSeconds 40"},
		{"services: {api: {env: {PRICEFN_CHUNK_COST: 20s}}}", "services.api.env.PRICEFN_CHUNK_COST 20s"},
		{"services: {ingress: {env: {PRICEFN_CHUNK_COST: 0.5m}}}", "take 60.0 s each"},
		{"services: {ingress: {env: {PRICEFN_CHUNK_COST: 1m30s}}, pricer: {containerConcurrency: 0}}", "1 at once on a pricer of 1 cores"},
		{"services: {ingress: {env: {PRICEFN_CHUNK_COST: 19500ms}}}", ""},
		{"services: {ingress: {env: {PRICEFN_CHUNK_COST: 1h}}, pricer: {resources: {requests: {cpu: '200'}}}}", ""},
		{"services: {api: {env: {PRICEFN_CHUNK_COST: 30s}}, pricer: {resources: {requests: {cpu: '2'}}}}", ""},
		{"services: {ingress: {env: {PRICEFN_CHUNK_COST: 30s}}, pricer: {resources: {requests: {cpu: 500m}}}}", "take 120.0 s each"},
		// A request of no CPU was a division by zero in the template.
		{"services: {pricer: {resources: {requests: {cpu: '0'}}}}", ""},
		{"services: {ingress: {env: {PRICEFN_CHUNK_COST: 30s}}, pricer: {resources: {requests: {cpu: '0'}}}}", "2 at once on a pricer of 1 cores"},
		{"{services: {ingress: {env: {PRICEFN_CHUNK_COST: 30s}}, pricer: {timeoutSeconds: 50}}, triggers: {chunkRequested: {timeoutSeconds: 49}}}", "take 60.0 s each, at or above triggers.chunkRequested.timeoutSeconds 49"},
		{"{services: {ingress: {env: {PRICEFN_CHUNK_COST: 30s}}, pricer: {timeoutSeconds: 120}}, triggers: {chunkRequested: {timeoutSeconds: 90}}}", ""},
	} {
		vals, err := chartutil.ReadValues([]byte(tt.vals))
		if err != nil {
			t.Fatal(err)
		}
		_, err = renderChart(c, vals.AsMap(), namespace)
		if tt.want == "" && err != nil {
			t.Errorf("%s: render: %v", tt.vals, err)
		}
		if tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%s: render: %v, want an error naming %q", tt.vals, err, tt.want)
		}
	}
	if _, err := renderChart(c, readValues(t, productionValues), namespace); err != nil {
		t.Errorf("production values: %v", err)
	}
}

// TestChartPublicURL: a publicURL renders only when the functions take it
// as PRICEFN_PUBLIC_URL (config.CheckURL, url.Parse), and then as given.
// The schema took any run of characters but '/' and spaces after the
// scheme: a port with a letter (:443x), a bad escape or an unclosed IPv6
// bracket rendered, and every function but the pricer crash-looped on
// its start-up check. A path, query or user, which the functions would
// take, is refused: the links append /batches/ID to the base.
func TestChartPublicURL(t *testing.T) {
	c := loadChart(t)
	for _, tt := range []struct {
		url string
		ok  bool
	}{
		{"https://pricefn.example.com", true},
		{"http://pricefn.example.com:8080", true},
		{"https://10.0.0.1:443", true},
		{"https://[fd00::1]:443", true},
		{"https://pricefn_1.internal", true},
		{"https://bücher.example", true},
		{"https://bücher.example:8443", true},
		{"https://pricefn.example.com:443x", false},
		{"https://pricefn.example.com:", true},
		{"https://%zz.example.com", false},
		{"https://[fd00::1", false},
		{"https://a b", false},
		{"https://", false},
		{"ftp://pricefn.example.com", false},
		{"https://pricefn.example.com/", false},
		{"https://pricefn.example.com/pricefn", false},
		{"https://pricefn.example.com?x=1", false},
		{"https://user@pricefn.example.com", false},
	} {
		cfgErr := config.CheckURL("--public-url", tt.url)
		if tt.ok && cfgErr != nil {
			t.Fatalf("%s: the functions refuse it: %v", tt.url, cfgErr)
		}
		vals := map[string]any{"publicURL": tt.url}
		files, err := renderChart(c, vals, namespace)
		if (err == nil) != tt.ok || (err != nil && !strings.Contains(err.Error(), "/publicURL")) {
			t.Errorf("%s: render %v, want rendered %v (the functions: %v)", tt.url, err, tt.ok, cfgErr)
			continue
		}
		if err != nil {
			continue
		}
		for _, name := range []string{"pricefn-api", "pricefn-ingress", "pricefn-aggregator"} {
			svc := findAll(docs(t, files), "Service", name)
			if len(svc) != 1 || envOf(svc[0])["PRICEFN_PUBLIC_URL"] != tt.url {
				t.Errorf("%s: %s's PRICEFN_PUBLIC_URL %q", tt.url, name, envOf(svc[0])["PRICEFN_PUBLIC_URL"])
			}
		}
	}
}

// TestChartScaleBounds: minScale and maxScale of a million pods or more
// render as the whole numbers Knative reads (it parses them as 32-bit
// integers) and are admitted; past a 32-bit integer the schema refuses
// them. They rendered as 1e+06, which Knative's webhook refused.
func TestChartScaleBounds(t *testing.T) {
	c := loadChart(t)
	for _, tt := range []struct {
		vals     string
		min, max string // "": refused by the schema
	}{
		{"services: {pricer: {maxScale: 1000000}}", "0", "1000000"},
		{"services: {pricer: {maxScale: 2147483647}}", "0", "2147483647"},
		{"services: {pricer: {minScale: 12345678, maxScale: 0}}", "12345678", "0"},
		{"services: {pricer: {minScale: 1000000, maxScale: 1000000}}", "1000000", "1000000"},
		{"services: {pricer: {maxScale: 2147483648}}", "", ""},
		{"services: {pricer: {minScale: 2147483648, maxScale: 0}}", "", ""},
	} {
		vals, err := chartutil.ReadValues([]byte(tt.vals))
		if err != nil {
			t.Fatal(err)
		}
		files, err := renderChart(c, vals.AsMap(), namespace)
		if tt.max == "" {
			if err == nil || !strings.Contains(err.Error(), "/services/pricer/") {
				t.Errorf("%s: render %v, want values.schema.json to refuse it", tt.vals, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: render: %v", tt.vals, err)
			continue
		}
		for _, svc := range knativeServices(t, files) {
			if svc.Name != "pricefn-pricer" {
				continue
			}
			a := svc.Spec.Template.Annotations
			if a[autoscaling.MinScaleAnnotationKey] != tt.min || a[autoscaling.MaxScaleAnnotationKey] != tt.max {
				t.Errorf("%s: min-scale %q, max-scale %q, want %q, %q", tt.vals, a[autoscaling.MinScaleAnnotationKey], a[autoscaling.MaxScaleAnnotationKey], tt.min, tt.max)
			}
			if errs, _ := admit(svc); errs != nil {
				t.Errorf("%s: Knative refuses it: %v", tt.vals, errs)
			}
		}
	}
}

// TestChartRedisMaxmemory: the trial Redis's maxmemory reaches
// redis-server as the string given, in any of the forms Redis reads, in a
// Deployment the API server decodes. A
// plain number of bytes (1000000000) rendered as a YAML integer in the
// container's args, a list of strings, which Kubernetes refuses; 1GB and
// 512m, which Redis reads, were refused by the schema.
func TestChartRedisMaxmemory(t *testing.T) {
	c := loadChart(t)
	for _, tt := range []struct {
		value string
		ok    bool
	}{
		{"400mb", true},
		{"1000000000", true},
		{"1GB", true},
		{"512m", true},
		{"100k", true},
		{"lots", false},
		{"1.5gb", false},
		{"1gib", false},
	} {
		redis := map[string]any{"maxmemory": tt.value, "resources": map[string]any{"limits": map[string]any{"memory": "2Gi"}}}
		files, err := renderChart(c, map[string]any{"redis": redis}, namespace)
		if !tt.ok {
			if err == nil || !strings.Contains(err.Error(), "/redis/maxmemory") {
				t.Errorf("maxmemory %s: render %v, want values.schema.json to refuse it", tt.value, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("maxmemory %s: render: %v", tt.value, err)
			continue
		}
		var got []string
		for _, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(files["redis.yaml"], -1) {
			var dep appsv1.Deployment
			if !strings.Contains(doc, "\nkind: Deployment\n") {
				continue
			}
			// As the API server reads it: JSON of the YAML, whose types do
			// not bend to the Go fields' (yaml.Unmarshal's would).
			j, err := yaml.YAMLToJSON([]byte(doc))
			if err != nil {
				t.Fatal(err)
			}
			dec := json.NewDecoder(bytes.NewReader(j))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&dep); err != nil {
				t.Errorf("maxmemory %s: the Deployment of redis.yaml: %v", tt.value, err)
				continue
			}
			got = dep.Spec.Template.Spec.Containers[0].Args
		}
		if i := slices.Index(got, "--maxmemory"); i < 0 || i+1 >= len(got) || got[i+1] != tt.value {
			t.Errorf("maxmemory %s: redis-server args %q", tt.value, got)
		}
	}
}

// TestChartDomainMapping: kourier.domain renders a DomainMapping that
// Knative's validation (v1beta1 DomainMapping) admits, or is refused by
// values.schema.json where Knative would refuse it: a label of more than
// 63 characters, a name of more than 253, one in the cluster's local
// domain. The schema took them all.
func TestChartDomainMapping(t *testing.T) {
	c := loadChart(t)
	label := strings.Repeat("a", 63)
	for _, tt := range []struct {
		domain string
		ok     bool
	}{
		{"pricefn.example.com", true},
		{label + ".example.com", true},
		{label + "a.example.com", false},
		{strings.Repeat(label+".", 3) + strings.Repeat("b", 59) + ".com", false}, // 255 characters
		{strings.Repeat(label+".", 3) + strings.Repeat("b", 57) + ".com", true},  // 253
		{"pricefn.pricefn.svc.cluster.local", false},
		{"cluster.local", false},
		{"pricefn.mycluster.local", true},
	} {
		files, err := renderChart(c, map[string]any{"kourier": map[string]any{"domain": tt.domain}}, namespace)
		if !tt.ok {
			if err == nil || !strings.Contains(err.Error(), "/kourier/domain") {
				t.Errorf("domain %s: render %v, want values.schema.json to refuse it", tt.domain, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("domain %s: render: %v", tt.domain, err)
			continue
		}
		dm := &servingv1beta1.DomainMapping{}
		if err := yaml.UnmarshalStrict([]byte(files["domainmapping.yaml"]), dm); err != nil {
			t.Fatalf("domain %s: %v", tt.domain, err)
		}
		ctx := apis.WithinCreate(context.Background())
		dm.SetDefaults(ctx)
		if errs := dm.Validate(ctx); dm.Name != tt.domain || errs != nil {
			t.Errorf("domain %s: DomainMapping %s: Knative refuses it: %v", tt.domain, dm.Name, errs)
		}
	}
}

// TestChartMonitoringRefuses: a dashboard that is not a JSON object, or a
// monitoring object without apiVersion, kind or name, is refused naming
// it. They rendered: a ConfigMap of text Grafana's sidecar cannot load, an
// object the API server refuses with no word of which value made it.
func TestChartMonitoringRefuses(t *testing.T) {
	c := loadChart(t)
	for _, tt := range []struct {
		monitoring map[string]any
		want       string // "": renders
	}{
		{map[string]any{"dashboards": map[string]any{"scaling": `{"title": "x"`}}, "monitoring.dashboards.scaling: not a dashboard's JSON object"},
		{map[string]any{"dashboards": map[string]any{"scaling": `[1, 2]`}}, "monitoring.dashboards.scaling: not a dashboard's JSON object"},
		{map[string]any{"dashboards": map[string]any{"scaling": `{"title": "x", "panels": []}`}}, ""},
		{map[string]any{"objects": map[string]any{"monitors": "kind: PodMonitor\nmetadata: {name: x}"}}, "monitoring.objects.monitors: document 1: want an object with apiVersion, kind and metadata.name"},
		{map[string]any{"objects": map[string]any{"monitors": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n---\napiVersion: v1\nkind: ConfigMap\n"}}, "monitoring.objects.monitors: document 2: want"},
		{map[string]any{"objects": map[string]any{"monitors": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n---\n# nothing\n"}}, ""},
	} {
		_, err := renderChart(c, map[string]any{"monitoring": tt.monitoring}, namespace)
		if tt.want == "" && err != nil {
			t.Errorf("%v: render: %v", tt.monitoring, err)
		}
		if tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%v: render %v, want an error naming %q", tt.monitoring, err, tt.want)
		}
	}
}

// TestChartSecretsChecked: a tokens or event key value the chart puts in
// its Secret renders only when the functions would start with it (auth's
// parsers of the files), and the render's error says why as they would.
// An empty value, a 20-character key or a token of another function's
// scope rendered, and every pod crash-looped. The chart's placeholders
// render, with NOTES.txt's warning.
func TestChartSecretsChecked(t *testing.T) {
	c := loadChart(t)
	key := strings.Repeat("k", 32)
	token := strings.Repeat("t", 16)
	for _, tt := range []struct {
		secret, value string
		want          string // the render's error; "": renders
	}{
		{"eventKey", key, ""},
		{"eventKey", "# signing key\n" + key + "  # new\n\n" + strings.Repeat("o", 40) + "\n", ""},
		{"eventKey", "", "secrets.eventKey.value holds 0 keys"},
		{"eventKey", "# only a comment\n", "secrets.eventKey.value holds 0 keys"},
		{"eventKey", strings.Repeat("k", 20), "secrets.eventKey.value line 1: key shorter than 32 characters"},
		{"eventKey", key + "\n" + key + "x\n" + key + "y\n", "secrets.eventKey.value holds 3 keys"},
		{"eventKey", "# The signing key (32 characters or more), then the key being rotated out.\nREPLACE-ME\n", ""},
		{"tokens", token + " acme", ""},
		{"tokens", "# TOKEN TENANT\n" + token + " acme submit,read\n" + token + "x risk-2 sign # upstream\n", ""},
		{"tokens", token + ",acme,read", ""},
		{"tokens", "", "secrets.tokens.value holds no token"},
		{"tokens", "short acme", "secrets.tokens.value line 1: token shorter than 16 characters"},
		{"tokens", token, "secrets.tokens.value line 1: want TOKEN TENANT [SCOPES]"},
		{"tokens", token + " Acme", `secrets.tokens.value line 1: tenant "Acme"`},
		{"tokens", token + " acme\n" + token + " other", "secrets.tokens.value line 2: token repeated from line 1"},
		{"tokens", token + " acme admin", `secrets.tokens.value line 1: scope "admin"`},
		{"tokens", token + " " + strings.Repeat("a", 64), "secrets.tokens.value line 1: tenant"},
		{"tokens", "# TOKEN TENANT [submit,read,sign], one a line; tokens of 16 characters or more.\nREPLACE-ME tenant\n", ""},
	} {
		vals := map[string]any{"secrets": map[string]any{tt.secret: map[string]any{"value": tt.value}}}
		files, err := renderChart(c, vals, namespace)
		if tt.want == "" {
			if err != nil {
				t.Errorf("%s %q: render: %v", tt.secret, tt.value, err)
			}
		} else if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s %q: render %v, want an error naming %q", tt.secret, tt.value, err, tt.want)
		}
		// The functions' verdict, but on the placeholders.
		if strings.Contains(tt.value, "REPLACE-ME") {
			if !strings.Contains(files["NOTES.txt"], "WARNING: the tokens and/or event key Secrets hold the chart's placeholders") {
				t.Errorf("%s placeholder: NOTES.txt has no warning", tt.secret)
			}
			continue
		}
		var authErr error
		if tt.secret == "eventKey" {
			_, authErr = auth.ParseKeys([]byte(tt.value))
		} else {
			path := filepath.Join(t.TempDir(), "tokens")
			if err := os.WriteFile(path, []byte(tt.value), 0o600); err != nil {
				t.Fatal(err)
			}
			_, authErr = auth.LoadTokens(path, time.Hour, nil)
		}
		if (authErr == nil) != (err == nil) {
			t.Errorf("%s %q: render %v, but the functions: %v", tt.secret, tt.value, err, authErr)
		}
	}
}

// TestChartBackoffDelay: broker.delivery.backoffDelay takes the ISO-8601
// durations of hours, minutes and seconds that Knative and "pricefn
// broker" read, and the Broker and every Trigger wait that long before
// the first retry (the local broker's schedule of the render). It took
// seconds only: PT1M and PT1M30S were refused.
func TestChartBackoffDelay(t *testing.T) {
	c := loadChart(t)
	for _, tt := range []struct {
		delay string
		first time.Duration // 0: refused by the schema
	}{
		{"PT0.5S", 500 * time.Millisecond},
		{"PT2S", 2 * time.Second},
		{"PT1M", time.Minute},
		{"PT1M30S", 90 * time.Second},
		{"PT1H", time.Hour},
		{"PT", 0},
		{"PT1.5M", 0},
		{"1s", 0},
		{"PT1S30M", 0},
	} {
		vals := map[string]any{"broker": map[string]any{"delivery": map[string]any{"backoffDelay": tt.delay}}}
		files, err := renderChart(c, vals, namespace)
		if tt.first == 0 {
			if err == nil || !strings.Contains(err.Error(), "/broker/delivery/backoffDelay") {
				t.Errorf("%s: render %v, want values.schema.json to refuse it", tt.delay, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: render: %v", tt.delay, err)
			continue
		}
		fsys := fstest.MapFS{}
		for _, n := range []string{"broker.yaml", "triggers.yaml"} {
			fsys[n] = &fstest.MapFile{Data: []byte(files[n])}
		}
		m, err := broker.LoadManifest(fsys, "pricefn")
		if err != nil {
			t.Fatalf("%s: pricefn broker: %v", tt.delay, err)
		}
		if len(m.Triggers) != 4 {
			t.Fatalf("%s: %d Triggers", tt.delay, len(m.Triggers))
		}
		for _, d := range append([]*broker.Delivery{m.Delivery}, m.DeliveryOf(m.Triggers[0]), m.DeliveryOf(m.Triggers[3])) {
			s, err := d.Schedule()
			if err != nil || len(s.Backoffs) == 0 || s.Backoffs[0] != tt.first {
				t.Errorf("%s: schedule %+v, %v: want a first wait of %v", tt.delay, s, err, tt.first)
			}
		}
	}
}

// TestChartRedisMemory: the trial Redis's maxmemory must be below its
// container's memory limit, or the kernel kills Redis before noeviction
// makes it refuse writes, and the writes of the last second are lost with
// it; maxmemory 0 (none) likewise. maxmemory 1gb under a 512Mi limit
// rendered.
func TestChartRedisMemory(t *testing.T) {
	c := loadChart(t)
	for _, tt := range []struct {
		maxmemory, limit string
		ok               bool
	}{
		{"400mb", "512Mi", true},
		{"500000000", "512Mi", true},
		{"512mb", "512Mi", false},
		{"1gb", "512Mi", false},
		{"1GB", "1.5Gi", true},
		{"2g", "2Gi", true},
		{"3g", "2.5Gi", false},
		{"0", "512Mi", false},
	} {
		redis := map[string]any{"maxmemory": tt.maxmemory, "resources": map[string]any{"limits": map[string]any{"memory": tt.limit}}}
		_, err := renderChart(c, map[string]any{"redis": redis}, namespace)
		want := fmt.Sprintf("redis.maxmemory %s: want a size below redis.resources.limits.memory %s", tt.maxmemory, tt.limit)
		if tt.ok && err != nil {
			t.Errorf("maxmemory %s, limit %s: render: %v", tt.maxmemory, tt.limit, err)
		}
		if !tt.ok && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("maxmemory %s, limit %s: render %v, want an error naming %q", tt.maxmemory, tt.limit, err, want)
		}
	}
}

// TestChartStoreURL: a store.url renders only when go-redis's ParseURL,
// which the functions open the store with, takes it. The schema took any
// redis:// URL: a password with a bare '%', '/' or '#' (common in
// generated passwords), a port or database that is not a number rendered,
// and api, ingress and aggregator crash-looped on "the store URL does not
// parse". So did an option of its query that go-redis refuses (a name
// it does not know, a value not of its kind): the render names the
// option. The render's error does not show the URL: it may hold a
// password.
func TestChartStoreURL(t *testing.T) {
	c := loadChart(t)
	for _, u := range []string{
		"redis://pricefn-redis:6379/0",
		"rediss://:s3cret@redis.example.internal:6380/0",
		"redis://user:p%25ss%2Fw%23rd@redis:6379/2",
		"redis://:p!$&'()*+,;=:x@redis:6379/0",
		"redis://redis:6379",
		"redis://redis:6379/",
		"redis://[fd00::1]:6379/0",
		"redis://redis:6379/0?read_timeout=5s&max_retries=3",
		"redis://:p%ss@redis:6379/0",
		"redis://:pa/ss@redis:6379/0",
		"redis://:pa#ss@redis:6379/0",
		"redis://:pa?ss@redis:6379/0",
		"redis://redis:63x79/0",
		"redis://redis:6379/db0",
		"redis://redis:6379/0/1",
		"redis://redis:6379/99999999999999999999",
		"redis://:p@ss@redis:6379/0",
		"redis://us@er:pw@redis:6379/0",
		"redis://redis:6379/0#x",
		"redis://REDIS.example:6379/0",
		"redis://redis:6379/0#%zz",
		// Options go-redis refuses, which rendered: the functions then
		// crash-looped on "unexpected option".
		"redis://redis:6379/0?read_timout=5s",
		"redis://redis:6379/0?read_timeout=5s&bogus=1",
		"redis://redis:6379/0?=1",
		"redis://redis:6379/0?skip_verify=true",
		"rediss://redis:6380/0?skip_verify=true",
		"redis://redis:6379/0?conn_max_idle_time=1m&idle_timeout=1m",
		"redis://redis:6379/0?conn_max_lifetime=1h&max_conn_age=1h",
		"redis://redis:6379/0?read_timeout=5&write_timeout=-1&dial_timeout=1.5s&pool_timeout=",
		"redis://redis:6379/0?read_timeout=5x",
		"redis://redis:6379/0?max_retries=three",
		"redis://redis:6379/0?pool_fifo=yes",
		"redis://redis:6379/0?pool_fifo=1&pool_size=20&min_idle_conns=-1&client_name=pricefn&protocol=3&db=2",
		"redis://redis:6379/0?pool_size=+20",
		"redis://redis:6379?db=x",
		"redis://redis:6379/0?min_retry_backoff=8ms&max_retry_backoff=512ms&max_idle_conns=5&max_active_conns=50&max_concurrent_dials=2",
		"redis://redis:6379/0?pipeline_pool_size=-1&pipeline_read_buffer_size=0&pipeline_write_buffer_size=1&conn_max_lifetime_jitter=1s",
		"redis://redis:6379/0?read_timeout=5s&&max_retries=3&",
	} {
		_, parseErr := redis.ParseURL(u)
		_, err := renderChart(c, map[string]any{"store": map[string]any{"url": u}}, namespace)
		if (err == nil) != (parseErr == nil) || (err != nil && !strings.Contains(err.Error(), "store.url does not parse as the functions read it (not shown") && !strings.Contains(err.Error(), "store.url: option")) {
			t.Errorf("%s: render %v; go-redis: %v", u, err, parseErr)
		}
		if err != nil && strings.Contains(err.Error(), "redis:6379") {
			t.Errorf("%s: the render's error shows the URL, and with it the password: %v", u, err)
		}
	}
}
