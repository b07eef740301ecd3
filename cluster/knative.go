package cluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

// ImageRegistry is the registry of the images of the test: Knative skips
// resolving their digests (registries-skipping-tag-resolving), as nothing
// is pulled here.
const ImageRegistry = "registry.example.com"

// KnativeNamespace is Knative Serving's namespace.
const KnativeNamespace = "knative-serving"

var (
	docSep  = regexp.MustCompile(`(?m)^---[ \t]*$`)
	kindRe  = regexp.MustCompile(`(?m)^kind:[ \t]*(\S+)`)
	svcPort = regexp.MustCompile(`(?m)^(\s+)name: webhook\n(\s+)namespace: knative-serving\n`)
)

// Documents splits a YAML stream into its non-empty documents.
func Documents(yaml string) []string {
	var out []string
	for _, d := range docSep.Split(yaml, -1) {
		if kindRe.MatchString(d) {
			out = append(out, strings.TrimSpace(d)+"\n")
		}
	}
	return out
}

// Kind returns a document's top-level kind.
func Kind(doc string) string {
	if m := kindRe.FindStringSubmatch(doc); m != nil {
		return m[1]
	}
	return ""
}

// readYAML reads and concatenates files matched by the patterns (sorted),
// keeping the documents whose kind keep accepts (nil keeps all).
func readYAML(keep func(kind string) bool, patterns ...string) (string, error) {
	var files []string
	for _, p := range patterns {
		m, err := filepath.Glob(p)
		if err != nil {
			return "", fmt.Errorf("cluster: %w", err)
		}
		if len(m) == 0 {
			return "", fmt.Errorf("cluster: no file matches %s", p)
		}
		sort.Strings(m)
		files = append(files, m...)
	}
	var b strings.Builder
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return "", fmt.Errorf("cluster: %w", err)
		}
		for _, d := range Documents(string(data)) {
			if keep == nil || keep(Kind(d)) {
				b.WriteString("---\n" + d)
			}
		}
	}
	return b.String(), nil
}

// InstallKnative applies Knative Serving's CRDs (with those of
// knative.dev/networking and knative.dev/caching it needs), its namespace,
// config maps (no digest resolution for ImageRegistry), webhook Secret and
// webhook configurations (pointed at the local webhook through a Service
// with ClusterIP WebhookIP), and Knative Eventing's CRDs, then starts the
// webhook, the controller and the autoscaler and waits until the webhook
// admits.
func (c *Cluster) InstallKnative(ctx context.Context) error {
	b := c.Bins
	crds, err := readYAML(func(k string) bool { return k == "CustomResourceDefinition" },
		filepath.Join(b.Serving, "config/core/300-resources/*.yaml"),
		filepath.Join(b.Networking, "config/*.yaml"),
		filepath.Join(b.Caching, "config/image.yaml"),
		filepath.Join(b.Operator, "cmd/operator/kodata/knative-eventing", EventingRelease, "1-eventing-crds.yaml"))
	if err != nil {
		return err
	}
	if _, err := c.Apply(ctx, crds); err != nil {
		return err
	}
	if _, err := c.Kubectl(ctx, "", "wait", "--for=condition=Established", "--timeout=60s", "crd", "--all"); err != nil {
		return err
	}
	ports, err := freePorts(8)
	if err != nil {
		return err
	}
	webhookPort := ports[0]
	config, err := readYAML(func(k string) bool { return k != "CustomResourceDefinition" },
		filepath.Join(b.Serving, "config/core/100-namespace.yaml"),
		filepath.Join(b.Serving, "config/core/configmaps/*.yaml"),
		filepath.Join(b.Networking, "config/config-network.yaml"),
		filepath.Join(b.Serving, "config/core/webhooks/secret.yaml"))
	if err != nil {
		return err
	}
	// Nothing is pulled: a placeholder queue-proxy image, and no digest
	// resolution for the test's registry.
	const queue = "queue-sidecar-image: ko://knative.dev/serving/cmd/queue\n"
	if !strings.Contains(config, queue) {
		return fmt.Errorf("cluster: config-deployment has no %q to replace", strings.TrimSpace(queue))
	}
	config = strings.Replace(config, queue, "queue-sidecar-image: "+ImageRegistry+"/knative/queue:v1.15\n"+
		"  registries-skipping-tag-resolving: "+ImageRegistry+"\n", 1)
	if _, err := c.Apply(ctx, config); err != nil {
		return err
	}
	// The pods are fake (kwok) and their IPs lead nowhere: the autoscaler
	// must never dial them. Mesh mode makes it scrape through the
	// revisions' Services, whose ClusterIPs are loopback addresses here.
	// A domain for external routes, as a real installation configures
	// (without one every route is cluster-local).
	for cm, data := range map[string]string{
		"config-network": `{"data":{"mesh-compatibility-mode":"enabled"}}`,
		"config-domain":  `{"data":{"example.com":""}}`,
	} {
		if _, err := c.Kubectl(ctx, "", "patch", "configmap", "-n", KnativeNamespace, cm, "--type=merge", "-p", data); err != nil {
			return err
		}
	}
	svc := fmt.Sprintf(`apiVersion: v1
kind: Service
metadata:
  name: webhook
  namespace: %s
spec:
  clusterIP: %s
  ports:
  - name: https-webhook
    port: %d
    targetPort: %[3]d
`, KnativeNamespace, WebhookIP, webhookPort)
	if _, err := c.Apply(ctx, svc); err != nil {
		return err
	}
	hooks, err := readYAML(nil, filepath.Join(b.Serving, "config/core/webhooks/*.yaml"))
	if err != nil {
		return err
	}
	hooks = svcPort.ReplaceAllString(hooks, fmt.Sprintf("${1}name: webhook\n${2}namespace: knative-serving\n${2}port: %d\n", webhookPort))
	var hookDocs []string
	for _, d := range Documents(hooks) {
		if k := Kind(d); k == "ValidatingWebhookConfiguration" || k == "MutatingWebhookConfiguration" {
			hookDocs = append(hookDocs, d)
		}
	}
	if len(hookDocs) != 3 || strings.Count(strings.Join(hookDocs, ""), fmt.Sprintf("port: %d", webhookPort)) != 3 {
		return fmt.Errorf("cluster: want 3 webhook configurations pointed at port %d, have:\n%s", webhookPort, strings.Join(hookDocs, "---\n"))
	}
	env := func(name string, profiling, metrics int) []string {
		return []string{"SYSTEM_NAMESPACE=" + KnativeNamespace, "POD_NAME=" + name + "-local",
			"CONFIG_LOGGING_NAME=config-logging", "CONFIG_OBSERVABILITY_NAME=config-observability",
			"METRICS_DOMAIN=knative.dev/internal/serving", "WEBHOOK_NAME=webhook",
			fmt.Sprintf("WEBHOOK_PORT=%d", webhookPort),
			fmt.Sprintf("PROFILING_PORT=%d", profiling), fmt.Sprintf("METRICS_PROMETHEUS_PORT=%d", metrics),
			"POD_IP=" + c.HostIP, "KUBECONFIG=" + c.Kubeconfig,
			fmt.Sprintf("STATS_SERVER_ADDR=:%d", ports[7]),
		}
	}
	if err := c.run("knative-webhook", filepath.Join(b.Knative, "webhook"), []string{"--kubeconfig", c.Kubeconfig}, env("webhook", ports[1], ports[2])); err != nil {
		return err
	}
	// The webhook fills in the configurations' caBundle once it runs.
	if _, err := c.Apply(ctx, strings.Join(hookDocs, "---\n")); err != nil {
		return err
	}
	if err := c.run("knative-controller", filepath.Join(b.Knative, "controller"), []string{"--kubeconfig", c.Kubeconfig}, env("controller", ports[3], ports[4])); err != nil {
		return err
	}
	if err := c.run("knative-autoscaler", filepath.Join(b.Knative, "autoscaler"), []string{"--kubeconfig", c.Kubeconfig}, env("autoscaler", ports[5], ports[6])); err != nil {
		return err
	}
	// Admitting: a Service in dry run goes through defaulting and
	// validation.
	probe := `apiVersion: serving.knative.dev/v1
kind: Service
metadata: {name: webhook-probe, namespace: default}
spec:
  template:
    spec:
      containers: [{image: ` + ImageRegistry + `/probe:v1}]
`
	return waitFor(ctx, "Knative webhook admitting", time.Second, func() (bool, string, error) {
		if err := c.exited(); err != nil {
			return false, "", err
		}
		out, err := c.Kubectl(ctx, probe, "apply", "--dry-run=server", "-o", "jsonpath={.spec.template.spec.containers[0].name}", "-f", "-")
		if err != nil {
			return false, err.Error(), nil
		}
		// The defaulting webhook names the container.
		return out == "user-container", out, nil
	})
}
