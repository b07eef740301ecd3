package knative_test

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/pricefn/pricefn/knative"
)

// objects parses every document of every manifest.
func objects(t *testing.T) []map[string]any {
	t.Helper()
	names, err := fs.Glob(knative.Manifests(), "*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(names, ","); got != "broker.yaml,services.yaml,triggers.yaml" {
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

func str(v any, path ...any) string {
	s, _ := get(v, path...).(string)
	return s
}

func TestManifestKinds(t *testing.T) {
	var got []string
	for _, o := range objects(t) {
		got = append(got, str(o, "kind")+"/"+str(o, "metadata", "name"))
	}
	want := "Broker/pricefn,Service/pricefn-ingress,Service/pricefn-pricer,Service/pricefn-aggregator," +
		"Trigger/pricefn-chunk-requested,Trigger/pricefn-chunk-priced,Trigger/pricefn-batch-accepted,Trigger/pricefn-batch-submitted"
	if strings.Join(got, ",") != want {
		t.Errorf("objects %v, want %s", got, want)
	}
}

func TestServices(t *testing.T) {
	const brokerURL = "http://broker-ingress.knative-eventing.svc.cluster.local/pricefn/pricefn"
	for _, o := range objects(t) {
		if str(o, "kind") != "Service" {
			continue
		}
		name := str(o, "metadata", "name")
		if str(o, "apiVersion") != "serving.knative.dev/v1" {
			t.Errorf("%s: apiVersion %s", name, str(o, "apiVersion"))
		}
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
		sink, maxWait := "", ""
		if env, _ := get(c, "env").([]any); len(env) > 0 {
			for _, e := range env {
				switch str(e, "name") {
				case "K_SINK":
					sink = str(e, "value")
				case "PRICEFN_MAX_WAIT":
					maxWait = str(e, "value")
				}
			}
		}
		switch fn {
		case "pricer":
			if ann("metric") != "concurrency" || ann("target") == "" || ann("min-scale") != "0" {
				t.Errorf("pricer: autoscaling %v, want concurrency with a target, scale to zero", get(tmpl, "metadata", "annotations"))
			}
			if sink != "" {
				t.Errorf("pricer: K_SINK %q, want none (it replies)", sink)
			}
		case "aggregator":
			if ann("min-scale") != "1" || ann("max-scale") != "1" {
				t.Errorf("aggregator: min-scale %q max-scale %q, want 1 and 1 (in-memory state)", ann("min-scale"), ann("max-scale"))
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
		default:
			t.Errorf("unexpected Service %s", name)
		}
	}
}
