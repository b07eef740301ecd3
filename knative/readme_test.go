package knative_test

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"knative.dev/serving/pkg/apis/autoscaling"

	"github.com/pricefn/pricefn/events/broker"
	"github.com/pricefn/pricefn/knative"
)

// knService is what a kn command line (or a manifest) sets on a Service,
// in a form both give the same way.
type knService struct {
	Namespace                 string
	Labels, Annotations       map[string]string // the Service's
	RevLabels, RevAnnotations map[string]string // the revision template's
	Args                      []string
	Port                      string // NAME:PORT
	ContainerConcurrency      int64
	TimeoutSeconds            int64
	Requests, Limits          map[string]string // canonical quantities
	Env                       map[string]string // value, or secret:NAME:KEY
	Mounts                    map[string]string // path -> secret:NAME (read-only)
	Readiness, Liveness       string            // PATH PeriodSeconds=N,FailureThreshold=N
}

// readmeBlock returns the README's shell block of kn commands, with line
// continuations joined, the COMMON array and $SINK expanded.
func readmeBlock(t *testing.T, text string) []string {
	t.Helper()
	start := strings.Index(text, "\nkn broker create ")
	if start < 0 {
		t.Fatal("README: no kn broker create")
	}
	end := strings.Index(text[start:], "\n```")
	block := strings.ReplaceAll(text[start+1:start+end], "\\\n", " ")
	// COMMON=(...) spans lines up to its closing parenthesis.
	common := regexp.MustCompile(`(?s)\nCOMMON=\((.*?)\)\n`).FindStringSubmatch(block)
	sink := regexp.MustCompile(`\nSINK=(\S+)\n`).FindStringSubmatch(block)
	if common == nil || sink == nil {
		t.Fatal("README: no COMMON=(...) or SINK=")
	}
	block = strings.Replace(block, common[0], "\n", 1)
	block = strings.ReplaceAll(block, `"${COMMON[@]}"`, strings.Join(strings.Fields(common[1]), " "))
	block = strings.ReplaceAll(block, "$SINK", sink[1])
	// A single-quoted argument (a patch's JSON) may span lines.
	var b strings.Builder
	quoted := false
	for _, r := range block {
		if r == '\'' {
			quoted = !quoted
		}
		if r == '\n' && quoted {
			r = ' '
		}
		b.WriteRune(r)
	}
	return strings.Split(b.String(), "\n")
}

// kv splits "a=b".
func kv(s string) (string, string) {
	k, v, _ := strings.Cut(s, "=")
	return k, v
}

// quantities parses "cpu=1,memory=256Mi" into canonical quantities.
func quantities(t *testing.T, s string, into map[string]string) {
	for _, part := range strings.Split(s, ",") {
		k, v := kv(part)
		q, err := resource.ParseQuantity(v)
		if err != nil {
			t.Fatalf("README: %s: %v", part, err)
		}
		into[k] = q.String()
	}
}

// knServiceCreate applies "kn service create NAME FLAGS" as kn does, for
// the flags the README uses.
func knServiceCreate(t *testing.T, errorf func(string, ...any), args []string) (string, knService) {
	t.Helper()
	s := knService{Labels: map[string]string{}, Annotations: map[string]string{}, RevLabels: map[string]string{},
		RevAnnotations: map[string]string{}, Requests: map[string]string{}, Limits: map[string]string{},
		Env: map[string]string{}, Mounts: map[string]string{}, TimeoutSeconds: 300}
	name := args[0]
	for i := 1; i < len(args); i++ {
		flag := args[i]
		if flag == "--cluster-local" {
			s.Labels["networking.knative.dev/visibility"] = "cluster-local"
			continue
		}
		if i+1 >= len(args) {
			t.Fatalf("README: kn service create %s: %s has no value", name, flag)
		}
		i++
		v := strings.Trim(args[i], `"'`)
		switch flag {
		case "-n":
			s.Namespace = v
		case "--image":
		case "--port":
			s.Port = v
		case "--arg":
			s.Args = append(s.Args, v)
		case "--label":
			k, val := kv(v)
			s.Labels[k], s.RevLabels[k] = val, val
		case "--annotation-service":
			k, val := kv(v)
			s.Annotations[k] = val
		case "--annotation-revision":
			k, val := kv(v)
			s.RevAnnotations[k] = val
		case "--scale-metric":
			s.RevAnnotations[autoscaling.MetricAnnotationKey] = v
		case "--scale-min":
			s.RevAnnotations[autoscaling.MinScaleAnnotationKey] = v
		case "--scale-max":
			s.RevAnnotations[autoscaling.MaxScaleAnnotationKey] = v
		case "--concurrency-target":
			s.RevAnnotations[autoscaling.TargetAnnotationKey] = v
		case "--concurrency-limit":
			fmt.Sscan(v, &s.ContainerConcurrency)
		case "--timeout":
			fmt.Sscan(v, &s.TimeoutSeconds)
		case "--request":
			quantities(t, v, s.Requests)
		case "--limit":
			quantities(t, v, s.Limits)
		case "--env":
			k, val := kv(v)
			s.Env[k] = val
		case "--env-value-from":
			k, val := kv(v)
			s.Env[k] = val
		case "--mount":
			k, val := kv(v)
			s.Mounts[k] = val
		case "--probe-readiness", "--probe-liveness":
			parts := strings.Split(v, ":")
			if len(parts) != 4 || parts[0] != "http" || parts[1] != "" || parts[2] != "" {
				errorf("README: %s %s %q: want http:::PATH (no host, no port: the container's)", name, flag, v)
				continue
			}
			if flag == "--probe-readiness" {
				s.Readiness = parts[3] + " " + s.Readiness
			} else {
				s.Liveness = parts[3] + " " + s.Liveness
			}
		case "--probe-readiness-opts":
			s.Readiness = strings.TrimSpace(s.Readiness) + " " + v
		case "--probe-liveness-opts":
			s.Liveness = strings.TrimSpace(s.Liveness) + " " + v
		default:
			errorf("README: kn service create %s: flag %s not understood by this test", name, flag)
		}
	}
	s.Readiness, s.Liveness = strings.TrimSpace(s.Readiness), strings.TrimSpace(s.Liveness)
	return name, s
}

// probeString renders a manifest probe as the README's flags give it.
func probeString(p *corev1.Probe) string {
	if p == nil || p.HTTPGet == nil {
		return ""
	}
	var opts []string
	if p.PeriodSeconds != 0 {
		opts = append(opts, fmt.Sprintf("PeriodSeconds=%d", p.PeriodSeconds))
	}
	if p.FailureThreshold != 0 {
		opts = append(opts, fmt.Sprintf("FailureThreshold=%d", p.FailureThreshold))
	}
	return strings.TrimSpace(p.HTTPGet.Path + " " + strings.Join(opts, ","))
}

// TestReadmeKnCommands applies the README's kn commands (and the kubectl
// patches that follow them) as kn would and compares the result with
// knative/: the same Broker, Services and Triggers.
func TestReadmeKnCommands(t *testing.T) {
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for _, p := range checkReadme(t, text) {
		t.Error(p)
	}
	// The comparison has teeth: each change is caught.
	for _, mut := range [][2]string{
		{"--concurrency-target 4 --concurrency-limit 8", "--concurrency-target 4 --concurrency-limit 5"},
		{"--scale-max 20 --concurrency-target 2 --concurrency-limit 2", "--scale-max 20 --concurrency-target 2 --concurrency-limit 4"},
		{"autoscaling.knative.dev/window=6s", "autoscaling.knative.dev/window=60s"},
		{"autoscaling.knative.dev/target-utilization-percentage=100", "autoscaling.knative.dev/target-utilization-percentage=70"},
		{"--arg pricer", "--arg aggregator"},
		{"--scale-min 1 --scale-max 10", "--scale-min 0 --scale-max 10"},
		{"--env PRICEFN_MAX_WAIT=50s", "--env PRICEFN_MAX_WAIT=60s"},
		{"batch-submitted:110", "batch-submitted:120"},
		{`"readOnlyRootFilesystem":true`, `"readOnlyRootFilesystem":false`},
		{"--filter type=io.pricefn.chunk.priced ", "--filter type=io.pricefn.chunk.requested "},
	} {
		if !strings.Contains(text, mut[0]) {
			t.Errorf("README has no %q", mut[0])
			continue
		}
		if len(checkReadme(t, strings.Replace(text, mut[0], mut[1], 1))) == 0 {
			t.Errorf("README with %q instead of %q: no difference found", mut[1], mut[0])
		}
	}
}

// checkReadme returns how the README's kn commands differ from knative/.
func checkReadme(t *testing.T, text string) []string {
	t.Helper()
	var problems []string
	errorf := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	lines := readmeBlock(t, text)
	kn := map[string]knService{}
	var secPatch, trigPatch string
	type knTrigger struct{ ns, broker, filter, sink string }
	triggers := map[string]knTrigger{}
	var brokerLine, loop string
	for _, line := range lines {
		f := strings.Fields(line)
		switch {
		case len(f) > 3 && f[0] == "kn" && f[1] == "service" && f[2] == "create":
			name, s := knServiceCreate(t, errorf, f[3:])
			kn[name] = s
		case len(f) > 3 && f[0] == "kn" && f[1] == "trigger" && f[2] == "create":
			var tr knTrigger
			for i := 4; i+1 < len(f); i += 2 {
				switch f[i] {
				case "-n":
					tr.ns = f[i+1]
				case "--broker":
					tr.broker = f[i+1]
				case "--filter":
					tr.filter = f[i+1]
				case "--sink":
					tr.sink = f[i+1]
				default:
					errorf("README: kn trigger create %s: flag %s not understood", f[3], f[i])
				}
			}
			triggers[f[3]] = tr
		case len(f) > 2 && f[0] == "kn" && f[1] == "broker":
			brokerLine = line
		case strings.Contains(line, "patch ksvc"):
			secPatch = line
		case strings.Contains(line, "patch trigger"):
			trigPatch = line
		case strings.HasPrefix(line, "for t in "):
			loop = line
		}
	}

	// Services, with the securityContext patch.
	var patch []struct {
		Op, Path string
		Value    corev1.SecurityContext
	}
	if m := regexp.MustCompile(`-p '(\[.*\])'`).FindStringSubmatch(secPatch); m == nil || json.Unmarshal([]byte(m[1]), &patch) != nil || len(patch) != 1 {
		t.Fatalf("README: securityContext patch %q", secPatch)
	}
	svcs := knativeServices(t, manifestFiles(t))
	if len(kn) != len(svcs) {
		errorf("README creates %d Services, knative/ has %d", len(kn), len(svcs))
	}
	for _, svc := range svcs {
		got, ok := kn[svc.Name]
		if !ok {
			errorf("README: no kn service create %s", svc.Name)
			continue
		}
		tmpl := svc.Spec.Template
		c := tmpl.Spec.Containers[0]
		want := knService{Namespace: svc.Namespace, Labels: svc.Labels, Annotations: svc.Annotations,
			RevLabels: tmpl.Labels, RevAnnotations: tmpl.Annotations, Args: c.Args,
			Port: fmt.Sprintf("%s:%d", c.Ports[0].Name, c.Ports[0].ContainerPort), TimeoutSeconds: *tmpl.Spec.TimeoutSeconds,
			Requests: map[string]string{}, Limits: map[string]string{}, Env: map[string]string{}, Mounts: map[string]string{},
			Readiness: probeString(c.ReadinessProbe), Liveness: probeString(c.LivenessProbe)}
		if tmpl.Spec.ContainerConcurrency != nil {
			want.ContainerConcurrency = *tmpl.Spec.ContainerConcurrency
		}
		for k, q := range c.Resources.Requests {
			want.Requests[string(k)] = q.String()
		}
		for k, q := range c.Resources.Limits {
			want.Limits[string(k)] = q.String()
		}
		for _, e := range c.Env {
			if r := e.ValueFrom; r != nil && r.SecretKeyRef != nil {
				want.Env[e.Name] = "secret:" + r.SecretKeyRef.Name + ":" + r.SecretKeyRef.Key
				continue
			}
			want.Env[e.Name] = e.Value
		}
		for _, m := range c.VolumeMounts {
			for _, v := range tmpl.Spec.Volumes {
				if v.Name == m.Name && v.Secret != nil && m.ReadOnly {
					want.Mounts[m.MountPath] = "secret:" + v.Secret.SecretName
				}
			}
		}
		if !reflect.DeepEqual(got, want) {
			errorf("README's kn service create %s:\n got  %+v\n want %+v", svc.Name, got, want)
		}
		if !reflect.DeepEqual(&patch[0].Value, c.SecurityContext) || patch[0].Path != "/spec/template/spec/containers/0/securityContext" {
			errorf("README's securityContext patch %+v, manifest %+v", patch[0], c.SecurityContext)
		}
	}

	// Broker and Triggers, with the delivery patch.
	m, err := broker.LoadManifest(knative.Manifests(), broker.DefaultName)
	if err != nil {
		t.Fatal(err)
	}
	d := m.Delivery
	wantBroker := fmt.Sprintf("kn broker create %s -n pricefn --class MTChannelBasedBroker --retry %d --backoff-policy %s --backoff-delay %s",
		m.Broker, *d.Retry, d.BackoffPolicy, d.BackoffDelay)
	if brokerLine != wantBroker {
		errorf("README: %q, want %q", brokerLine, wantBroker)
	}
	timeouts := map[string]string{}
	for _, pair := range strings.Fields(strings.TrimSuffix(strings.TrimPrefix(loop, "for t in "), "; do")) {
		k, v, _ := strings.Cut(pair, ":")
		timeouts["pricefn-"+k] = "PT" + v + "S"
	}
	if len(triggers) != len(m.Triggers) {
		errorf("README creates %d Triggers, knative/ has %d", len(triggers), len(m.Triggers))
	}
	for _, tr := range m.Triggers {
		got := triggers[tr.Name]
		wantFilter := ""
		for k, v := range tr.Filter {
			wantFilter = k + "=" + v
		}
		if got.ns != "pricefn" || got.broker != m.Broker || got.filter != wantFilter || got.sink != "ksvc:"+tr.Subscriber.Ref.Name {
			errorf("README: kn trigger create %s %+v, want broker %s filter %s sink ksvc:%s", tr.Name, got, m.Broker, wantFilter, tr.Subscriber.Ref.Name)
		}
		del := m.DeliveryOf(tr)
		patchJSON := strings.NewReplacer(`'${t#*:}'`, strings.TrimSuffix(strings.TrimPrefix(timeouts[tr.Name], "PT"), "S"), "\n", "").Replace(trigPatch)
		mp := regexp.MustCompile(`-p '(.*)'\s*$`).FindStringSubmatch(patchJSON)
		var p struct {
			Spec struct {
				Delivery struct {
					Retry          int32
					BackoffPolicy  string
					BackoffDelay   string
					Timeout        string
					DeadLetterSink struct {
						Ref struct{ APIVersion, Kind, Name string }
						URI string
					}
				}
			}
		}
		if mp == nil || json.Unmarshal([]byte(strings.ReplaceAll(mp[1], "''", "")), &p) != nil {
			t.Fatalf("README: Trigger delivery patch %q does not parse", patchJSON)
		}
		pd := p.Spec.Delivery
		if pd.Retry != *del.Retry || pd.BackoffPolicy != string(del.BackoffPolicy) || pd.BackoffDelay != del.BackoffDelay ||
			pd.Timeout != del.Timeout || pd.DeadLetterSink.Ref.Name != del.DeadLetterSink.Ref.Name || pd.DeadLetterSink.URI != del.DeadLetterSink.URI {
			errorf("README: %s delivery %+v, manifest %+v", tr.Name, pd, del)
		}
	}
	return problems
}
