package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Where the project's manifests and chart are, from this folder.
const (
	knativeDir = "../knative"
	chartDir   = "../charts/pricefn"
	prodValues = "../charts/pricefn/ci/production-values.yaml"
	koImage    = "ko://github.com/pricefn/pricefn/cmd/pricefn"
	// testImage stands for the image ko would build and push.
	testImage = ImageRegistry + "/pricefn/pricefn:cluster-test"
)

// scaling is what a Service's PodAutoscaler must carry. utilization,
// window and delay are its target-utilization-percentage, window and
// scale-down-delay annotations, "" where the Service sets none.
type scaling struct {
	min, max, target, cc       int
	utilization, window, delay string
	clusterLocal               bool
}

// want are the PodAutoscalers' settings, by namespace and Service: knative/
// (the chart's defaults) in pricefn, ci/production-values.yaml in
// pricefn-prod. The pricer's defaults are what pricefn plan chose
// (charts/pricefn/values.yaml).
var want = map[string]map[string]scaling{
	"pricefn": {
		"pricefn-api":        {min: 1, max: 10, target: 4, cc: 8},
		"pricefn-ingress":    {min: 0, max: 10, target: 2, cc: 2, clusterLocal: true},
		"pricefn-pricer":     {min: 0, max: 20, target: 2, cc: 2, utilization: "100", window: "6s", delay: "0s", clusterLocal: true},
		"pricefn-aggregator": {min: 0, max: 10, target: 50, cc: 0, clusterLocal: true},
	},
	"pricefn-prod": {
		"pricefn-api":        {min: 2, max: 20, target: 4, cc: 8},
		"pricefn-ingress":    {min: 0, max: 20, target: 2, cc: 2, clusterLocal: true},
		"pricefn-pricer":     {min: 0, max: 200, target: 2, cc: 4, utilization: "70", window: "60s", delay: "60s", clusterLocal: true},
		"pricefn-aggregator": {min: 0, max: 20, target: 50, cc: 0, clusterLocal: true},
	},
}

// TestCluster builds (or takes from the cache) a Kubernetes control plane
// and Knative Serving, applies knative/ and the chart's production-like
// render, and checks that the API server and Knative's webhook admit every
// object, that each Service's Revision becomes Ready with a Deployment and
// Running pods, that each PodAutoscaler carries the intended class,
// metric, target and bounds, and that objects breaking a rule are refused.
func TestCluster(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 80*time.Minute)
	defer cancel()
	cache, err := DefaultCache()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	bins, err := (&Builder{Cache: cache, Log: os.Stderr}).Build(ctx)
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	t.Logf("binaries ready in %v (cache %s)", time.Since(start).Round(time.Second), cache)

	// The chart, rendered by the real helm CLI, linted strictly.
	helm := func(args ...string) (string, error) {
		out, err := exec.CommandContext(ctx, bins.Helm, args...).CombinedOutput()
		return string(out), err
	}
	// helm built from source assumes Kubernetes 1.20 without a cluster.
	kubeVersion := "--kube-version=" + KubernetesVersion
	for _, args := range [][]string{{"lint", "--strict", kubeVersion, chartDir}, {"lint", "--strict", kubeVersion, chartDir, "-f", prodValues}} {
		if out, err := helm(args...); err != nil {
			t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	prod, err := helm("template", kubeVersion, "pricefn", chartDir, "--namespace", "pricefn-prod", "-f", prodValues)
	if err != nil {
		t.Fatalf("helm template: %v\n%s", err, prod)
	}
	if out, err := helm("template", kubeVersion, "pricefn", chartDir, "--set", "services.pricer.containerConcurrency=2000"); err == nil ||
		!strings.Contains(out, "containerConcurrency") {
		t.Errorf("helm template with containerConcurrency 2000: %v, want it refused naming the value:\n%s", err, out)
	}

	dir := t.TempDir()
	start = time.Now()
	c, err := Start(ctx, bins, dir)
	if err != nil {
		t.Fatalf("control plane: %v", err)
	}
	defer c.Stop()
	t.Logf("API server and node Ready in %v", time.Since(start).Round(time.Second))
	start = time.Now()
	if err := c.InstallKnative(ctx); err != nil {
		t.Fatalf("Knative: %v\nwebhook log:\n%s", err, c.Logs("knative-webhook", 3000))
	}
	t.Logf("Knative Serving %s installed, webhook admitting in %v", ServingVersion, time.Since(start).Round(time.Second))
	defer func() {
		if t.Failed() {
			for _, p := range []string{"knative-controller", "knative-autoscaler", "knative-webhook", "kwok"} {
				t.Logf("%s log (end):\n%s", p, c.Logs(p, 2500))
			}
		}
	}()

	// knative/ in namespace pricefn, as ko resolve would give it.
	var manifests strings.Builder
	paths, err := filepath.Glob(filepath.Join(knativeDir, "*.yaml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("knative/*.yaml: %v", err)
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		manifests.WriteString("---\n" + string(data) + "\n")
	}
	kn := strings.ReplaceAll(manifests.String(), koImage, testImage)
	for _, ns := range []string{"pricefn", "pricefn-prod"} {
		if _, err := c.Kubectl(ctx, "", "create", "namespace", ns); err != nil {
			t.Fatal(err)
		}
	}
	for _, set := range []struct{ name, yaml string }{{"knative/", kn}, {"chart (production values)", prod}} {
		out, err := c.Apply(ctx, set.yaml)
		if err != nil {
			t.Fatalf("%s refused: %v\n%s", set.name, err, out)
		}
		t.Logf("%s admitted:\n%s", set.name, strings.TrimSpace(out))
	}

	// Each Service's Revision Ready, with its Deployment and pods.
	var wg sync.WaitGroup
	var mu sync.Mutex
	revisions := map[string]string{} // ns/service -> revision
	for ns, svcs := range want {
		for svc := range svcs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rev, err := c.waitRevision(ctx, ns, svc)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					t.Errorf("%s/%s: %v", ns, svc, err)
					return
				}
				revisions[ns+"/"+svc] = rev
			}()
		}
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	t.Logf("every Revision Ready %v after Knative started", time.Since(start).Round(time.Second))

	var table []string
	for _, ns := range sortedKeys(want) {
		for _, svc := range sortedKeys(want[ns]) {
			rev := revisions[ns+"/"+svc]
			line, err := c.checkRevision(ctx, ns, svc, rev, want[ns][svc])
			if err != nil {
				t.Errorf("%s/%s: %v", ns, svc, err)
			}
			table = append(table, line)
		}
	}
	t.Logf("PodAutoscalers, Deployments and pods:\n%s", strings.Join(table, "\n"))

	// Routing: the Kourier class, public api, cluster-local receivers.
	// With no gateway here, the test reports the KIngress Ready as Kourier
	// would, and the Services become Ready.
	for _, ns := range sortedKeys(want) {
		for _, svc := range sortedKeys(want[ns]) {
			url, err := c.checkRoute(ctx, ns, svc, want[ns][svc].clusterLocal)
			if err != nil {
				t.Errorf("%s/%s: %v", ns, svc, err)
				continue
			}
			t.Logf("%s/%s Ready at %s", ns, svc, url)
		}
	}

	// Broker and Triggers as the API server stored them (Eventing 1.15's
	// schemas): delivery kept whole.
	for _, tr := range []struct{ name, timeout string }{
		{"pricefn-chunk-requested", "PT40S"}, {"pricefn-chunk-priced", "PT30S"},
		{"pricefn-batch-accepted", "PT30S"}, {"pricefn-batch-submitted", "PT110S"},
	} {
		for _, ns := range sortedKeys(want) {
			out, err := c.Kubectl(ctx, "", "get", "trigger", "-n", ns, tr.name, "-o",
				"jsonpath={.spec.broker} {.spec.filter.attributes.type} {.spec.delivery.retry} {.spec.delivery.backoffPolicy} {.spec.delivery.backoffDelay} {.spec.delivery.timeout} {.spec.delivery.deadLetterSink.uri}")
			if err != nil || !strings.HasSuffix(out, " 7 exponential PT0.5S "+tr.timeout+" /dead-letter") || !strings.HasPrefix(out, "pricefn io.pricefn.") {
				t.Errorf("%s/%s stored as %q (%v)", ns, tr.name, out, err)
			}
		}
	}
	if out, err := c.Kubectl(ctx, "", "get", "broker", "-n", "pricefn-prod", "pricefn", "-o",
		`jsonpath={.metadata.annotations.eventing\.knative\.dev/broker\.class} {.spec.config.name} {.spec.delivery.retry}`); err != nil || out != "Kafka kafka-broker-config 7" {
		t.Errorf("pricefn-prod Broker stored as %q (%v)", out, err)
	}

	// Rules that matter, each broken once: refused by Knative's webhook or
	// by the API server (Eventing's schemas), with a message naming it.
	pricer := pick(t, kn, "Service", "pricefn-pricer")
	trigger := pick(t, kn, "Trigger", "pricefn-chunk-requested")
	for _, tt := range []struct {
		name, doc, old, new, want string
	}{
		{"containerConcurrency above the limit (1000)", pricer, "containerConcurrency: 2", "containerConcurrency: 1001", "containerConcurrency"},
		{"timeoutSeconds above the maximum (600)", pricer, "timeoutSeconds: 50", "timeoutSeconds: 601", "timeoutSeconds"},
		{"min-scale above max-scale", pricer, `autoscaling.knative.dev/min-scale: "0"`, `autoscaling.knative.dev/min-scale: "60"`, "min-scale"},
		{"a metric the KPA does not scale on", pricer, "autoscaling.knative.dev/metric: concurrency", "autoscaling.knative.dev/metric: cpu", "metric"},
		{"a second container port", pricer, "              containerPort: 8080\n", "              containerPort: 8080\n            - name: metrics\n              containerPort: 9464\n", "ports"},
		{"a port the queue-proxy holds", pricer, "containerPort: 8080", "containerPort: 9091", "reserved"},
		{"an unknown field", pricer, "containerConcurrency: 2", "containerConcurrency: 2\n      maxConcurrency: 4", "maxConcurrency"},
		{"a Trigger's retry not an integer", trigger, "retry: 7", `retry: "seven"`, "spec.delivery.retry"},
		{"a Trigger's filter not an object", trigger, "    attributes:\n      type: io.pricefn.chunk.requested", `    attributes: "type=io.pricefn.chunk.requested"`, "spec.filter.attributes"},
	} {
		if !strings.Contains(tt.doc, tt.old) {
			t.Errorf("%s: %q not in the manifest", tt.name, tt.old)
			continue
		}
		doc := strings.Replace(tt.doc, tt.old, tt.new, 1)
		doc = strings.Replace(doc, "\n  name: pricefn-pricer\n", "\n  name: pricefn-negative\n", 1)
		doc = strings.Replace(doc, "\n  name: pricefn-chunk-requested\n", "\n  name: pricefn-negative\n", 1)
		out, err := c.Kubectl(ctx, doc, "apply", "--dry-run=server", "--validate=strict", "-f", "-")
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: admitted (%v, %s), want it refused naming %q", tt.name, err, out, tt.want)
			continue
		}
		t.Logf("refused, %s: %s", tt.name, lastLine(err.Error()))
	}
	if err := c.Healthy(); err != nil {
		t.Errorf("a process of the cluster ended: %v", err)
	}
	// Nothing dialled the fake pods' addresses (kwok's pod CIDR).
	for _, p := range []string{"knative-autoscaler", "knative-controller"} {
		if log := c.Logs(p, 1<<30); strings.Contains(log, "//"+PodCIDRPrefix) {
			t.Errorf("%s dialled a fake pod address (%s*): its log:\n%s", p, PodCIDRPrefix, tail(log, 2000))
		}
	}
}

// waitRevision waits until the Service's latest Revision is Ready and
// returns its name.
func (c *Cluster) waitRevision(ctx context.Context, ns, svc string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 4*time.Minute)
	defer cancel()
	var rev string
	err := waitFor(ctx, "Revision Ready", time.Second, func() (bool, string, error) {
		if err := c.exited(); err != nil {
			return false, "", err
		}
		out, err := c.Kubectl(ctx, "", "get", "ksvc", "-n", ns, svc, "-o", "jsonpath={.status.latestCreatedRevisionName}")
		if err != nil || out == "" {
			return false, fmt.Sprint("no revision yet ", err), nil
		}
		rev = out
		st, err := c.Kubectl(ctx, "", "get", "revision", "-n", ns, rev, "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status} {.status.conditions[?(@.type=="Ready")].reason} {.status.conditions[?(@.type=="Ready")].message}`)
		return err == nil && strings.HasPrefix(st, "True"), rev + ": " + st, nil
	})
	return rev, err
}

// obj gets one object as JSON.
func (c *Cluster) obj(ctx context.Context, args ...string) (map[string]any, error) {
	out, err := c.Kubectl(ctx, "", append([]string{"get", "-o", "json"}, args...)...)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		return nil, fmt.Errorf("%v: %w", args, err)
	}
	return m, nil
}

// checkRevision checks the Revision's PodAutoscaler against w, and its
// Deployment and pods, and returns a line for the report.
func (c *Cluster) checkRevision(ctx context.Context, ns, svc, rev string, w scaling) (string, error) {
	pa, err := c.obj(ctx, "podautoscalers.autoscaling.internal.knative.dev", "-n", ns, rev)
	if err != nil {
		return "", err
	}
	ann := func(k string) string { return str(pa, "metadata", "annotations", "autoscaling.knative.dev/"+k) }
	cc, _ := get(pa, "spec", "containerConcurrency").(float64)
	line := fmt.Sprintf("%-13s %-19s PA class=%s metric=%s target=%s utilization=%q scale=%s..%s window=%q scale-down-delay=%q containerConcurrency=%d",
		ns, svc, ann("class"), ann("metric"), ann("target"), ann("target-utilization-percentage"), ann("min-scale"), ann("max-scale"),
		ann("window"), ann("scale-down-delay"), int(cc))
	var problems []string
	if ann("class") != "kpa.autoscaling.knative.dev" || ann("metric") != "concurrency" ||
		ann("target") != strconv.Itoa(w.target) || ann("min-scale") != strconv.Itoa(w.min) ||
		ann("max-scale") != strconv.Itoa(w.max) || int(cc) != w.cc || ann("target-utilization-percentage") != w.utilization ||
		ann("window") != w.window || ann("scale-down-delay") != w.delay {
		problems = append(problems, fmt.Sprintf("PodAutoscaler %s, want KPA on concurrency, target %d, utilization %q, scale %d..%d, window %q, scale-down-delay %q, containerConcurrency %d",
			line, w.target, w.utilization, w.min, w.max, w.window, w.delay, w.cc))
	}
	dep, err := c.obj(ctx, "deployment", "-n", ns, rev+"-deployment")
	if err != nil {
		return line, err
	}
	var qpCC, user string
	for _, ct := range list(get(dep, "spec", "template", "spec", "containers")) {
		if str(ct, "name") == "queue-proxy" {
			for _, e := range list(get(ct, "env")) {
				if str(e, "name") == "CONTAINER_CONCURRENCY" {
					qpCC = str(e, "value")
				}
			}
			continue
		}
		user = fmt.Sprintf("%s %v", str(ct, "image"), get(ct, "args"))
		for _, m := range list(get(ct, "volumeMounts")) {
			if get(m, "readOnly") != true {
				problems = append(problems, fmt.Sprintf("volume %s mounted writable", str(m, "name")))
			}
		}
	}
	if qpCC != strconv.Itoa(w.cc) {
		problems = append(problems, fmt.Sprintf("queue-proxy CONTAINER_CONCURRENCY %q, want %d", qpCC, w.cc))
	}
	pods, err := c.obj(ctx, "pods", "-n", ns, "-l", "serving.knative.dev/revision="+rev)
	if err != nil {
		return line, err
	}
	running := 0
	for _, p := range list(get(pods, "items")) {
		if str(p, "status", "phase") == "Running" && str(p, "spec", "nodeName") == NodeName {
			running++
		}
	}
	replicas, _ := get(dep, "status", "readyReplicas").(float64)
	line += fmt.Sprintf(" | Deployment %s ready=%d pods Running=%d | %s", rev+"-deployment", int(replicas), running, user)
	if w.min > 0 && running < w.min {
		problems = append(problems, fmt.Sprintf("%d pods Running, want at least min-scale %d", running, w.min))
	}
	if len(problems) > 0 {
		return line, fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return line, nil
}

// checkRoute checks the Service's KIngress (Kourier's class; cluster-local
// rules only for an internal Service, an external one for the public
// API), reports it Ready as a gateway would, waits for the Service to be
// Ready and returns its URL.
func (c *Cluster) checkRoute(ctx context.Context, ns, svc string, clusterLocal bool) (string, error) {
	var ing map[string]any
	err := waitFor(ctx, "KIngress", time.Second, func() (bool, string, error) {
		var err error
		ing, err = c.obj(ctx, "ingresses.networking.internal.knative.dev", "-n", ns, svc)
		return err == nil, fmt.Sprint(err), nil
	})
	if err != nil {
		return "", err
	}
	if cls := str(ing, "metadata", "annotations", "networking.knative.dev/ingress.class"); cls != "kourier.ingress.networking.knative.dev" {
		return "", fmt.Errorf("KIngress class %q, want Kourier's", cls)
	}
	vis := map[string]bool{}
	for _, r := range list(get(ing, "spec", "rules")) {
		vis[str(r, "visibility")] = true
	}
	if clusterLocal != !vis["ExternalIP"] || !vis["ClusterLocal"] {
		return "", fmt.Errorf("KIngress rule visibilities %v, want cluster-local only: %v", vis, clusterLocal)
	}
	gen, _ := get(ing, "metadata", "generation").(float64)
	now := time.Now().UTC().Format(time.RFC3339)
	cond := func(t string) map[string]any {
		return map[string]any{"type": t, "status": "True", "lastTransitionTime": now}
	}
	lb := func(host string) map[string]any {
		return map[string]any{"ingress": []any{map[string]any{"domainInternal": host}}}
	}
	status, _ := json.Marshal(map[string]any{"status": map[string]any{
		"observedGeneration": int(gen),
		"conditions":         []any{cond("Ready"), cond("LoadBalancerReady"), cond("NetworkConfigured")},
		"publicLoadBalancer": lb("kourier.kourier-system.svc.cluster.local"), "privateLoadBalancer": lb("kourier-internal.kourier-system.svc.cluster.local"),
	}})
	if _, err := c.Kubectl(ctx, "", "patch", "ingresses.networking.internal.knative.dev", "-n", ns, svc, "--subresource=status", "--type=merge", "-p", string(status)); err != nil {
		return "", err
	}
	var url string
	err = waitFor(ctx, "Service Ready", time.Second, func() (bool, string, error) {
		out, err := c.Kubectl(ctx, "", "get", "ksvc", "-n", ns, svc, "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status} {.status.url}`)
		st, u, _ := strings.Cut(out, " ")
		url = u
		return err == nil && st == "True", out, nil
	})
	if err != nil {
		return "", err
	}
	if internal := strings.HasSuffix(url, ".svc.cluster.local"); internal != clusterLocal {
		return url, fmt.Errorf("URL %s, want cluster-local: %v", url, clusterLocal)
	}
	return url, nil
}

// pick returns the document of that kind and name from a YAML stream.
func pick(t *testing.T, yaml, kind, name string) string {
	t.Helper()
	for _, d := range Documents(yaml) {
		if Kind(d) == kind && strings.Contains(d, "\n  name: "+name+"\n") {
			return d
		}
	}
	t.Fatalf("no %s %s", kind, name)
	return ""
}

func get(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

func str(v any, path ...string) string {
	s, _ := get(v, path...).(string)
	return s
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndex(s, "\n"); i >= 0 {
		return s[i+1:]
	}
	return s
}
