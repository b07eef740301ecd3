package cluster

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// ServiceCIDR is the API server's service range: loopback addresses, so
// that a Service's ClusterIP is an address of this machine and the API
// server reaches Knative's webhook (a local process) through its Service.
const ServiceCIDR = "127.0.48.0/24"

// WebhookIP is the ClusterIP of Knative's webhook Service.
const WebhookIP = "127.0.48.10"

// NodeName is kwok's fake node.
const NodeName = "kwok-node-0"

// PodCIDR is the fake pods' addresses (kwok's): nothing may dial them,
// they lead off this machine. PodCIDRPrefix starts each of them.
const (
	PodCIDR       = "10.0.0.0/24"
	PodCIDRPrefix = "10.0.0."
)

// Cluster is a running control plane: etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler and kwok, and once
// StartKnative has run, Knative Serving's webhook, controller and
// autoscaler.
type Cluster struct {
	// Dir holds the cluster's data, keys, kubeconfig and logs (logs/).
	Dir        string
	Bins       Bins
	Kubeconfig string
	// HostIP is this machine's non-loopback address.
	HostIP string
	procs  []*process
}

// Start starts the control plane in dir and waits until the API server
// is ready and the fake node is Ready.
func Start(ctx context.Context, bins Bins, dir string) (c *Cluster, err error) {
	c = &Cluster{Dir: dir, Bins: bins}
	defer func() {
		if err != nil {
			c.Stop()
		}
	}()
	logs := filepath.Join(dir, "logs")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		return c, fmt.Errorf("cluster: %w", err)
	}
	if c.HostIP, err = hostIP(); err != nil {
		return c, err
	}
	ports, err := freePorts(4)
	if err != nil {
		return c, err
	}
	etcdPort, peerPort, apiPort, kwokPort := ports[0], ports[1], ports[2], ports[3]

	// Service account keys and the admin's token.
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return c, fmt.Errorf("cluster: %w", err)
	}
	keyPath, pubPath := filepath.Join(dir, "sa.key"), filepath.Join(dir, "sa.pub")
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return c, fmt.Errorf("cluster: %w", err)
	}
	if err := writeFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})); err != nil {
		return c, err
	}
	if err := writeFile(pubPath, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})); err != nil {
		return c, err
	}
	tok := make([]byte, 16)
	if _, err := rand.Read(tok); err != nil {
		return c, fmt.Errorf("cluster: %w", err)
	}
	token := hex.EncodeToString(tok)
	tokens := filepath.Join(dir, "tokens.csv")
	if err := writeFile(tokens, []byte(token+",admin,admin,system:masters\n")); err != nil {
		return c, err
	}
	c.Kubeconfig = filepath.Join(dir, "kubeconfig")
	kubeconfig := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: https://127.0.0.1:%d
    insecure-skip-tls-verify: true
users:
- name: admin
  user:
    token: %s
contexts:
- name: local
  context: {cluster: local, user: admin}
current-context: local
`, apiPort, token)
	if err := writeFile(c.Kubeconfig, []byte(kubeconfig)); err != nil {
		return c, err
	}

	etcd := fmt.Sprintf("http://127.0.0.1:%d", etcdPort)
	peer := fmt.Sprintf("http://127.0.0.1:%d", peerPort)
	if err := c.run("etcd", filepath.Join(bins.Kube, "etcd"), []string{
		"--name", "default", "--data-dir", filepath.Join(dir, "etcd"),
		"--listen-client-urls", etcd, "--advertise-client-urls", etcd,
		"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
		"--initial-cluster", "default=" + peer, "--unsafe-no-fsync", "--log-level", "warn",
	}, nil); err != nil {
		return c, err
	}
	if err := c.run("kube-apiserver", filepath.Join(bins.Kube, "kube-apiserver"), []string{
		"--etcd-servers", etcd,
		"--bind-address", "127.0.0.1", "--secure-port", fmt.Sprint(apiPort),
		"--advertise-address", c.HostIP,
		"--cert-dir", filepath.Join(dir, "certs"),
		"--token-auth-file", tokens,
		"--authorization-mode", "RBAC",
		"--service-account-issuer", "https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file", pubPath,
		"--service-account-signing-key-file", keyPath,
		"--service-cluster-ip-range", ServiceCIDR,
		"--allow-privileged",
		"--disable-admission-plugins", "ServiceAccount",
		"--profiling=false",
	}, nil); err != nil {
		return c, err
	}
	if err := waitFor(ctx, "API server ready", 500*time.Millisecond, func() (bool, string, error) {
		if err := c.exited(); err != nil {
			return false, "", err
		}
		out, err := c.Kubectl(ctx, "", "get", "--raw", "/readyz")
		return err == nil && strings.TrimSpace(out) == "ok", out, nil
	}); err != nil {
		return c, err
	}
	if err := c.run("kube-controller-manager", filepath.Join(bins.Kube, "kube-controller-manager"), []string{
		"--kubeconfig", c.Kubeconfig, "--secure-port", "0", "--leader-elect=false",
		"--service-account-private-key-file", keyPath, "--use-service-account-credentials=false",
		"--profiling=false",
	}, nil); err != nil {
		return c, err
	}
	if err := c.run("kube-scheduler", filepath.Join(bins.Kube, "kube-scheduler"), []string{
		"--kubeconfig", c.Kubeconfig, "--authentication-kubeconfig", c.Kubeconfig, "--authorization-kubeconfig", c.Kubeconfig,
		"--leader-elect=false", "--bind-address", "127.0.0.1", "--secure-port", "0", "--profiling=false",
	}, nil); err != nil {
		return c, err
	}
	// kwok: one fake node and the lifecycle of its pods.
	var stages bytes.Buffer
	for _, s := range bins.KwokStages {
		data, err := os.ReadFile(s)
		if err != nil {
			return c, fmt.Errorf("cluster: kwok stage: %w", err)
		}
		stages.WriteString("---\n")
		stages.Write(data)
		stages.WriteString("\n")
	}
	stagesPath := filepath.Join(dir, "kwok-stages.yaml")
	if err := writeFile(stagesPath, stages.Bytes()); err != nil {
		return c, err
	}
	if err := c.run("kwok", bins.Kwok, []string{
		"--kubeconfig", c.Kubeconfig, "--config", stagesPath,
		"--manage-nodes-with-annotation-selector", "kwok.x-k8s.io/node=fake",
		"--cidr", PodCIDR, "--node-lease-duration-seconds", "40", "--server-address", fmt.Sprintf("127.0.0.1:%d", kwokPort),
	}, nil); err != nil {
		return c, err
	}
	node := fmt.Sprintf(`apiVersion: v1
kind: Node
metadata:
  name: %s
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/hostname: %[1]s
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    type: kwok
status:
  allocatable: {cpu: "64", memory: 256Gi, pods: "250"}
  capacity: {cpu: "64", memory: 256Gi, pods: "250"}
`, NodeName)
	if _, err := c.Apply(ctx, node); err != nil {
		return c, err
	}
	if err := waitFor(ctx, "node Ready", time.Second, func() (bool, string, error) {
		if err := c.exited(); err != nil {
			return false, "", err
		}
		out, err := c.Kubectl(ctx, "", "get", "node", NodeName, "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status}`)
		return err == nil && out == "True", out, nil
	}); err != nil {
		return c, err
	}
	return c, nil
}

func writeFile(path string, data []byte) error {
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	return nil
}

// run starts a process of the cluster.
func (c *Cluster) run(name, bin string, args, env []string) error {
	p, err := start(name, filepath.Join(c.Dir, "logs"), bin, args, env)
	if err != nil {
		return err
	}
	c.procs = append(c.procs, p)
	return nil
}

// exited returns an error naming the first process of the cluster that
// has ended, with the end of its log.
func (c *Cluster) exited() error {
	for _, p := range c.procs {
		if ended, err := p.exited(); ended {
			return fmt.Errorf("%s exited (%v):\n%s", p.name, err, p.tailLog(3000))
		}
	}
	return nil
}

// Healthy reports a process that has exited.
func (c *Cluster) Healthy() error { return c.exited() }

// Logs returns the end of the log of the process called name.
func (c *Cluster) Logs(name string, n int) string {
	for _, p := range c.procs {
		if p.name == name {
			return p.tailLog(n)
		}
	}
	return "no process " + name
}

// Stop ends every process, the last started first. Knative's processes
// take long to drain on SIGTERM and hold nothing worth keeping: they are
// killed after a second.
func (c *Cluster) Stop() {
	for i := len(c.procs) - 1; i >= 0; i-- {
		c.procs[i].stop(time.Second)
	}
	c.procs = nil
}

// Kubectl runs kubectl against the cluster with stdin (none when empty)
// and returns its standard output; the error carries standard error.
func (c *Cluster) Kubectl(ctx context.Context, stdin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.Bins.Kubectl(), append([]string{"--kubeconfig", c.Kubeconfig}, args...)...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errOut.String()))
	}
	return out.String(), nil
}

// Apply applies YAML with kubectl apply (server-side field validation:
// an unknown field is an error) and returns kubectl's output.
func (c *Cluster) Apply(ctx context.Context, yaml string, args ...string) (string, error) {
	return c.Kubectl(ctx, yaml, append([]string{"apply", "--validate=strict", "-f", "-"}, args...)...)
}
