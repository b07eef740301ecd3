package knative_test

import (
	"io/fs"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/pricefn/pricefn/events/broker"
	"github.com/pricefn/pricefn/knative"
)

// objects parses every document of every manifest.
func objects(t *testing.T) []map[string]any {
	t.Helper()
	names, err := fs.Glob(knative.Manifests(), "*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(names, ","); got != "broker.yaml,redis.yaml,secrets.yaml,services.yaml,triggers.yaml" {
		t.Errorf("embedded manifests %s", got)
	}
	var objs []map[string]any
	for _, name := range names {
		data, err := fs.ReadFile(knative.Manifests(), name)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(data), -1) {
			var obj map[string]any
			if err := yaml.UnmarshalStrict([]byte(doc), &obj); err != nil {
				t.Fatalf("%s document %d: %v", name, i+1, err)
			}
			if obj == nil {
				continue
			}
			if str(obj, "apiVersion") == "" || str(obj, "kind") == "" || str(obj, "metadata", "name") == "" {
				t.Errorf("%s document %d: no apiVersion, kind or metadata.name", name, i+1)
			}
			if ns := str(obj, "metadata", "namespace"); ns != "pricefn" {
				t.Errorf("%s %s: namespace %q, want pricefn", str(obj, "kind"), str(obj, "metadata", "name"), ns)
			}
			objs = append(objs, obj)
		}
	}
	return objs
}

// get follows path through nested maps (and, for an int step, lists).
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

// asList is v as a list (nil when it is not one).
func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

func str(v any, path ...any) string {
	s, _ := get(v, path...).(string)
	return s
}

func TestManifestKinds(t *testing.T) {
	var got []string
	for _, o := range objects(t) {
		got = append(got, str(o, "kind")+"/"+str(o, "metadata", "name"))
	}
	want := "Broker/pricefn," +
		"PersistentVolumeClaim/pricefn-redis,Deployment/pricefn-redis,Service/pricefn-redis," +
		"Secret/pricefn-tokens,Secret/pricefn-event-key,Secret/pricefn-store," +
		"Service/pricefn-api,Service/pricefn-ingress,Service/pricefn-pricer,Service/pricefn-aggregator," +
		"Trigger/pricefn-chunk-requested,Trigger/pricefn-chunk-priced,Trigger/pricefn-batch-accepted,Trigger/pricefn-batch-submitted"
	if strings.Join(got, ",") != want {
		t.Errorf("objects %v, want %s", got, want)
	}
}

func TestServices(t *testing.T) {
	const brokerURL = "http://broker-ingress.knative-eventing.svc.cluster.local/pricefn/pricefn"
	for _, o := range objects(t) {
		if str(o, "kind") != "Service" || str(o, "apiVersion") != "serving.knative.dev/v1" {
			continue
		}
		name := str(o, "metadata", "name")
		fn := strings.TrimPrefix(name, "pricefn-")
		tmpl := get(o, "spec", "template")
		ann := func(k string) string { return str(tmpl, "metadata", "annotations", "autoscaling.knative.dev/"+k) }
		containers, _ := get(tmpl, "spec", "containers").([]any)
		if len(containers) != 1 {
			t.Fatalf("%s: %d containers, want 1", name, len(containers))
		}
		c := containers[0]
		if str(c, "image") != "ko://github.com/pricefn/pricefn/cmd/pricefn" || str(c, "args", 0) != fn || len(get(c, "args").([]any)) != 1 {
			t.Errorf("%s: image %s args %v", name, str(c, "image"), get(c, "args"))
		}
		if ports, _ := get(c, "ports").([]any); len(ports) != 1 || get(ports[0], "containerPort") != float64(8080) {
			t.Errorf("%s: ports %v, want one containerPort 8080", name, get(c, "ports"))
		}
		for probe, path := range map[string]string{"readinessProbe": "/readyz", "livenessProbe": "/healthz"} {
			if str(c, probe, "httpGet", "path") != path {
				t.Errorf("%s: %s %v, want httpGet %s", name, probe, get(c, probe), path)
			}
		}
		sc := get(c, "securityContext")
		if get(sc, "runAsNonRoot") != true || get(sc, "allowPrivilegeEscalation") != false ||
			get(sc, "readOnlyRootFilesystem") != true || str(sc, "capabilities", "drop", 0) != "ALL" ||
			str(sc, "seccompProfile", "type") != "RuntimeDefault" {
			t.Errorf("%s: securityContext %v is not restrictive", name, sc)
		}
		sink, maxWait, store, tokens, eventKey := "", "", "", "", ""
		if env, _ := get(c, "env").([]any); len(env) > 0 {
			for _, e := range env {
				switch str(e, "name") {
				case "K_SINK":
					sink = str(e, "value")
				case "PRICEFN_MAX_WAIT":
					maxWait = str(e, "value")
				case "PRICEFN_TOKENS_FILE":
					tokens = str(e, "value")
				case "PRICEFN_EVENT_KEY_FILE":
					eventKey = str(e, "value")
				case "PRICEFN_STORE":
					// The store's URL comes from the Secret of redis.yaml.
					if ref := get(e, "valueFrom", "secretKeyRef"); str(ref, "name") == "pricefn-store" && str(ref, "key") == "store" && str(e, "value") == "" {
						store = "secret pricefn-store/store"
					} else {
						store = "bad"
						t.Errorf("%s: PRICEFN_STORE %v, want valueFrom secretKeyRef pricefn-store key store", name, e)
					}
				}
			}
		}
		// Every function checks the events it receives with the event key;
		// api and ingress also read the tokens. Both are files of Secrets
		// mounted read-only (the functions re-read them when they change).
		mounted := func(file, secret string) bool {
			dir := file[:strings.LastIndex(file, "/")+1]
			for _, m := range asList(get(c, "volumeMounts")) {
				if str(m, "mountPath")+"/" != dir || get(m, "readOnly") != true {
					continue
				}
				for _, v := range asList(get(tmpl, "spec", "volumes")) {
					if str(v, "name") == str(m, "name") && str(v, "secret", "secretName") == secret {
						return true
					}
				}
			}
			return false
		}
		if eventKey == "" || !mounted(eventKey, "pricefn-event-key") {
			t.Errorf("%s: PRICEFN_EVENT_KEY_FILE %q is not a file of Secret pricefn-event-key mounted read-only", name, eventKey)
		}
		wantTokens := fn == "api" || fn == "ingress"
		if wantTokens != (tokens != "") || (wantTokens && !mounted(tokens, "pricefn-tokens")) {
			t.Errorf("%s: PRICEFN_TOKENS_FILE %q: want a file of Secret pricefn-tokens mounted read-only on api and ingress only", name, tokens)
		}
		// The public API alone is reachable from outside the cluster.
		if local := str(o, "metadata", "labels", "networking.knative.dev/visibility") == "cluster-local"; local != (fn != "api") {
			t.Errorf("%s: cluster-local %v, want public api and cluster-local event receivers", name, local)
		}
		switch fn {
		case "api":
			if sink != brokerURL || store == "" {
				t.Errorf("api: K_SINK %q store %q, want the Broker and the shared store", sink, store)
			}
			timeout, _ := get(tmpl, "spec", "timeoutSeconds").(float64)
			if d, err := time.ParseDuration(maxWait); err != nil || timeout == 0 || d >= time.Duration(timeout)*time.Second {
				t.Errorf("api: PRICEFN_MAX_WAIT %q with timeoutSeconds %v, want a wait shorter than the timeout", maxWait, timeout)
			}
		case "pricer":
			if ann("metric") != "concurrency" || ann("target") == "" || ann("min-scale") != "0" {
				t.Errorf("pricer: autoscaling %v, want concurrency with a target, scale to zero", get(tmpl, "metadata", "annotations"))
			}
			if sink != "" {
				t.Errorf("pricer: K_SINK %q, want none (it replies)", sink)
			}
			if store != "" {
				t.Errorf("pricer: PRICEFN_STORE set, want none (it keeps no state)")
			}
		case "aggregator":
			// Its state is in Redis: it scales like the others, to zero.
			maxScale, err := strconv.Atoi(ann("max-scale"))
			if ann("min-scale") != "0" || err != nil || maxScale < 2 || ann("metric") != "concurrency" || ann("target") == "" {
				t.Errorf("aggregator: autoscaling %v, want concurrency with a target, min-scale 0 and max-scale of several replicas",
					get(tmpl, "metadata", "annotations"))
			}
			if store == "" {
				t.Error("aggregator: no PRICEFN_STORE, want the shared store")
			}
			if sink != brokerURL {
				t.Errorf("aggregator: K_SINK %q, want %s", sink, brokerURL)
			}
			// A long poll must end before Knative's request timeout.
			timeout, _ := get(tmpl, "spec", "timeoutSeconds").(float64)
			if d, err := time.ParseDuration(maxWait); err != nil || timeout == 0 || d >= time.Duration(timeout)*time.Second {
				t.Errorf("aggregator: PRICEFN_MAX_WAIT %q with timeoutSeconds %v, want a wait shorter than the timeout", maxWait, timeout)
			}
		case "ingress":
			if sink != brokerURL {
				t.Errorf("ingress: K_SINK %q, want %s", sink, brokerURL)
			}
			if store == "" {
				t.Error("ingress: no PRICEFN_STORE, want the shared store")
			}
		default:
			t.Errorf("unexpected Service %s", name)
		}
	}
}

// find returns the object of that kind and name (nil when absent).
func find(objs []map[string]any, apiVersion, kind, name string) map[string]any {
	for _, o := range objs {
		if str(o, "apiVersion") == apiVersion && str(o, "kind") == kind && str(o, "metadata", "name") == name {
			return o
		}
	}
	return nil
}

// TestRetryBudgets computes each Trigger's retry schedule from the
// manifests as the Broker applies it: every Trigger must outlive a
// subscriber gone for a pod restart (30 s) without dead-lettering, and
// bound each attempt below its Service's timeoutSeconds so the Broker, not
// the platform, ends a stuck attempt.
func TestRetryBudgets(t *testing.T) {
	const restart = 30 * time.Second
	m, err := broker.LoadManifest(knative.Manifests(), broker.DefaultName)
	if err != nil {
		t.Fatal(err)
	}
	objs := objects(t)
	seen := map[string]bool{}
	for _, tr := range m.Triggers {
		d := m.DeliveryOf(tr)
		sched, err := d.Schedule()
		if err != nil {
			t.Errorf("trigger %s: %v", tr.Name, err)
			continue
		}
		svc := tr.Subscriber.Ref.Name
		seen[svc] = true
		if got := sched.Outage(); got < restart {
			t.Errorf("trigger %s (%s): backoffs %v sum to %v, want at least %v", tr.Name, svc, sched.Backoffs, got, restart)
		}
		// The dead-letter sink (the aggregator) is tried with the same
		// schedule, so it survives a restart too.
		ksvc := find(objs, "serving.knative.dev/v1", "Service", svc)
		limit, _ := get(ksvc, "spec", "template", "spec", "timeoutSeconds").(float64)
		if sched.Timeout <= 0 || limit == 0 || sched.Timeout >= time.Duration(limit)*time.Second {
			t.Errorf("trigger %s: attempt timeout %v, Service %s timeoutSeconds %v: want a timeout below it", tr.Name, sched.Timeout, svc, limit)
		}
		t.Logf("trigger %s -> %s: %d attempts, backoffs %v (outage survived %v), timeout %v, at most %v",
			tr.Name, svc, sched.Attempts, sched.Backoffs, sched.Outage(), sched.Timeout, sched.Longest(0))
	}
	for _, svc := range []string{"pricefn-pricer", "pricefn-aggregator"} {
		if !seen[svc] {
			t.Errorf("no Trigger delivers to %s", svc)
		}
	}
	// The pricer's attempt must outlast a chunk's pricing (about 1 s of
	// one core, 4 at once per pod) plus a cold start.
	for _, tr := range m.Triggers {
		if tr.Subscriber.Ref.Name != "pricefn-pricer" {
			continue
		}
		if sched, _ := m.DeliveryOf(tr).Schedule(); sched.Timeout < 30*time.Second {
			t.Errorf("trigger %s: attempt timeout %v, want at least 30 s (4 chunks of ~1 s and a cold start)", tr.Name, sched.Timeout)
		}
	}
	if sched, err := m.Delivery.Schedule(); err != nil || sched.Outage() < restart {
		t.Errorf("Broker default delivery: %+v, %v; want at least %v of backoffs", sched, err, restart)
	}
}

// TestRedis checks the trial Redis: persistent (append-only file on the
// claimed volume), not evicting state, reachable at the URL of the Secret
// the functions read, restrictive like the functions.
func TestRedis(t *testing.T) {
	objs := objects(t)
	secret := find(objs, "v1", "Secret", "pricefn-store")
	store, err := url.Parse(str(secret, "stringData", "store"))
	if err != nil || store.Scheme != "redis" || store.Path != "/0" {
		t.Fatalf("Secret pricefn-store: store %q, want redis://HOST:PORT/0", str(secret, "stringData", "store"))
	}
	svc := find(objs, "v1", "Service", store.Hostname())
	if svc == nil {
		t.Fatalf("store host %s: no Service of that name", store.Hostname())
	}
	port, _ := get(svc, "spec", "ports", 0, "port").(float64)
	if strconv.Itoa(int(port)) != store.Port() {
		t.Errorf("Service %s port %v, store URL port %s", store.Hostname(), port, store.Port())
	}
	dep := find(objs, "apps/v1", "Deployment", "pricefn-redis")
	if dep == nil {
		t.Fatal("no Deployment pricefn-redis")
	}
	pod := get(dep, "spec", "template")
	sel, _ := get(svc, "spec", "selector").(map[string]any)
	for k, v := range sel {
		if str(pod, "metadata", "labels", k) != v {
			t.Errorf("Service selector %s=%v does not match the Deployment's pod labels %v", k, v, get(pod, "metadata", "labels"))
		}
	}
	if get(dep, "spec", "replicas") != float64(1) || str(dep, "spec", "strategy", "type") != "Recreate" {
		t.Errorf("Deployment: replicas %v strategy %v, want 1 and Recreate (one writer of the volume)", get(dep, "spec", "replicas"), get(dep, "spec", "strategy"))
	}
	c := get(pod, "spec", "containers", 0)
	args := map[string]string{}
	list, _ := get(c, "args").([]any)
	for i := 0; i+1 < len(list); i += 2 {
		args[list[i].(string)] = list[i+1].(string)
	}
	if args["--appendonly"] != "yes" || args["--maxmemory-policy"] != "noeviction" || args["--dir"] != "/data" {
		t.Errorf("redis args %v, want --appendonly yes, --maxmemory-policy noeviction, --dir /data", list)
	}
	if str(c, "volumeMounts", 0, "mountPath") != "/data" {
		t.Errorf("redis mounts %v, want its volume at /data", get(c, "volumeMounts"))
	}
	claim := str(pod, "spec", "volumes", 0, "persistentVolumeClaim", "claimName")
	if claim == "" || find(objs, "v1", "PersistentVolumeClaim", claim) == nil {
		t.Errorf("redis volume %v, want a PersistentVolumeClaim of these manifests", get(pod, "spec", "volumes"))
	}
	sc := get(c, "securityContext")
	if get(sc, "runAsNonRoot") != true || get(sc, "allowPrivilegeEscalation") != false ||
		get(sc, "readOnlyRootFilesystem") != true || str(sc, "capabilities", "drop", 0) != "ALL" {
		t.Errorf("redis securityContext %v is not restrictive", sc)
	}
	if str(c, "image") == "" || strings.HasSuffix(str(c, "image"), ":latest") || !strings.Contains(str(c, "image"), ":") {
		t.Errorf("redis image %q, want a pinned tag", str(c, "image"))
	}
}
