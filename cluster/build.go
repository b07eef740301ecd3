package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// Versions of everything the harness builds. Knative Serving v0.42.2 is
// Knative 1.15, which needs Kubernetes 1.28 or later; the Eventing CRDs
// come from the operator of the same release.
const (
	KubernetesVersion = "v1.30.14"
	// StagingVersion is the version of the k8s.io/<staging> modules
	// (api, client-go, ...) that go with KubernetesVersion.
	StagingVersion  = "v0.30.14"
	EtcdVersion     = "v3.5.10"
	KwokVersion     = "v0.8.0"
	ServingVersion  = "v0.42.2"
	OperatorVersion = "v0.42.2"
	HelmVersion     = "v3.22.0"
	// EventingRelease is the Knative Eventing release whose CRD schemas
	// the Broker and Triggers are checked against.
	EventingRelease = "1.15.0"
)

// Bins are the harness's binaries and the Knative YAML it applies, all
// under one cache directory, built once and kept between runs.
type Bins struct {
	// Kube holds kube-apiserver, kube-controller-manager, kube-scheduler,
	// kubectl and etcd.
	Kube string
	// Knative holds webhook, controller and autoscaler.
	Knative string
	// Kwok is the kwok binary, KwokStages its Stage YAML (node and pod
	// lifecycles).
	Kwok       string
	KwokStages []string
	// Helm is the helm binary.
	Helm string
	// Serving is the knative.dev/serving module's folder (config/core),
	// Networking and Caching those of its dependencies (their CRDs),
	// Operator knative.dev/operator's (Eventing's release YAML).
	Serving, Networking, Caching, Operator string
}

// Kubectl is the path of kubectl.
func (b Bins) Kubectl() string { return filepath.Join(b.Kube, "kubectl") }

// Builder builds the binaries into Cache, each once: a binary already
// there is used as it is. Log receives progress.
type Builder struct {
	// Cache is the cache folder, e.g. ~/.cache/pricefn-cluster.
	Cache string
	// Log receives what is built and how long it took; nil discards it.
	Log io.Writer
	// Nice is the niceness of the builds (the machine is shared); 0
	// means 19.
	Nice int
}

// DefaultCache is $PRICEFN_CLUSTER_CACHE, else ~/.cache/pricefn-cluster.
func DefaultCache() (string, error) {
	if d := os.Getenv("PRICEFN_CLUSTER_CACHE"); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("cluster: cache folder: %w", err)
	}
	return filepath.Join(d, "pricefn-cluster"), nil
}

// Build builds what is missing and returns where everything is.
func (b *Builder) Build(ctx context.Context) (Bins, error) {
	var bins Bins
	var err error
	if bins.Serving, err = b.moduleDir(ctx, "knative.dev/serving", ServingVersion); err != nil {
		return bins, err
	}
	if bins.Operator, err = b.moduleDir(ctx, "knative.dev/operator", OperatorVersion); err != nil {
		return bins, err
	}
	kwokDir, err := b.moduleDir(ctx, "sigs.k8s.io/kwok", KwokVersion)
	if err != nil {
		return bins, err
	}
	stages := filepath.Join(kwokDir, "kustomize", "stage")
	for _, s := range []string{"node/fast/node-initialize.yaml", "node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
		"pod/fast/pod-ready.yaml", "pod/fast/pod-complete.yaml", "pod/fast/pod-delete.yaml"} {
		bins.KwokStages = append(bins.KwokStages, filepath.Join(stages, filepath.FromSlash(s)))
	}
	if bins.Kube, err = b.buildKube(ctx); err != nil {
		return bins, err
	}
	if bins.Knative, bins.Networking, bins.Caching, err = b.buildKnative(ctx); err != nil {
		return bins, err
	}
	if bins.Kwok, err = b.install(ctx, "sigs.k8s.io/kwok/cmd/kwok", KwokVersion, "kwok"); err != nil {
		return bins, err
	}
	if bins.Helm, err = b.install(ctx, "helm.sh/helm/v3/cmd/helm", HelmVersion, "helm"); err != nil {
		return bins, err
	}
	return bins, nil
}

func (b *Builder) logf(format string, args ...any) {
	if b.Log != nil {
		fmt.Fprintf(b.Log, "cluster: "+format+"\n", args...)
	}
}

// goCmd runs go in dir, niced, with GOFLAGS cleared and no workspace.
func (b *Builder) goCmd(ctx context.Context, dir string, args ...string) *exec.Cmd {
	nice := b.Nice
	if nice == 0 {
		nice = 19
	}
	cmd := exec.CommandContext(ctx, "nice", append([]string{"-n", fmt.Sprint(nice), "go"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=", "CGO_ENABLED=0")
	return cmd
}

func (b *Builder) run(cmd *exec.Cmd) error {
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("cluster: %s (in %s): %w\n%s", strings.Join(cmd.Args, " "), cmd.Dir, err, tail(out.String(), 4000))
	}
	return nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// moduleDir downloads module@version into the module cache and returns
// its folder.
func (b *Builder) moduleDir(ctx context.Context, module, version string) (string, error) {
	if err := os.MkdirAll(b.Cache, 0o755); err != nil {
		return "", fmt.Errorf("cluster: %w", err)
	}
	cmd := b.goCmd(ctx, b.Cache, "mod", "download", "-json", module+"@"+version)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("cluster: go mod download %s@%s: %w\n%s%s", module, version, err, out.String(), errOut.String())
	}
	var info struct{ Dir, GoMod, Error string }
	if err := json.Unmarshal(out.Bytes(), &info); err != nil {
		return "", fmt.Errorf("cluster: go mod download %s@%s: %w", module, version, err)
	}
	if info.Error != "" || info.Dir == "" {
		return "", fmt.Errorf("cluster: go mod download %s@%s: %s", module, version, info.Error)
	}
	return info.Dir, nil
}

// done reports whether every file of names exists in dir.
func done(dir string, names ...string) bool {
	for _, n := range names {
		if fi, err := os.Stat(filepath.Join(dir, n)); err != nil || fi.Size() == 0 {
			return false
		}
	}
	return true
}

// scratch writes a module's go.mod (and extra files) into a fresh folder
// of the cache and returns it.
func (b *Builder) scratch(name, gomod string, files map[string]string) (string, error) {
	dir := filepath.Join(b.Cache, "src", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("cluster: %w", err)
	}
	// Keep go.sum from an interrupted run: it only grows.
	if old, err := os.ReadFile(filepath.Join(dir, "go.mod")); err != nil || string(old) != gomod {
		if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644); err != nil {
			return "", fmt.Errorf("cluster: %w", err)
		}
	}
	for path, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return "", fmt.Errorf("cluster: %w", err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return "", fmt.Errorf("cluster: %w", err)
		}
	}
	return dir, nil
}

// kubeBinaries are the binaries of the Kubernetes module.
var kubeBinaries = []string{"kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubectl"}

// buildKube builds the Kubernetes binaries and etcd from a scratch module
// that requires k8s.io/kubernetes and replaces each of its staging modules
// (which its own go.mod points at ./staging) by the published one.
func (b *Builder) buildKube(ctx context.Context) (string, error) {
	out := filepath.Join(b.Cache, "bin", "kubernetes-"+KubernetesVersion)
	if done(out, append(kubeBinaries, "etcd")...) {
		return out, nil
	}
	dir, err := b.moduleDir(ctx, "k8s.io/kubernetes", KubernetesVersion)
	if err != nil {
		return "", err
	}
	kmod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return "", fmt.Errorf("cluster: %w", err)
	}
	var gomod strings.Builder
	fmt.Fprintf(&gomod, "module pricefn.local/kubernetes\n\ngo 1.26.0\n\nrequire (\n\tk8s.io/kubernetes %s\n\tgo.etcd.io/etcd/server/v3 %s\n)\n\nreplace (\n", KubernetesVersion, EtcdVersion)
	staging := regexp.MustCompile(`(?m)^\s*(k8s\.io/[a-z0-9-]+) => \./staging/`)
	n := 0
	for _, m := range staging.FindAllStringSubmatch(string(kmod), -1) {
		if strings.HasPrefix(m[1], "k8s.io/sample-") { // not served by the proxy, needed by nothing
			continue
		}
		fmt.Fprintf(&gomod, "\t%s => %s %s\n", m[1], m[1], StagingVersion)
		n++
	}
	gomod.WriteString(")\n")
	if n < 20 {
		return "", fmt.Errorf("cluster: k8s.io/kubernetes %s: found %d staging modules in its go.mod, want about 28", KubernetesVersion, n)
	}
	src, err := b.scratch("kubernetes-"+KubernetesVersion, gomod.String(), nil)
	if err != nil {
		return "", err
	}
	// Knative refuses an API server that reports v0.0.0-master.
	minor := strings.Split(strings.TrimPrefix(KubernetesVersion, "v"), ".")[1]
	ldflags := fmt.Sprintf("-s -w -X k8s.io/component-base/version.gitVersion=%[1]s -X k8s.io/component-base/version.gitMajor=1"+
		" -X k8s.io/component-base/version.gitMinor=%[2]s -X k8s.io/client-go/pkg/version.gitVersion=%[1]s"+
		" -X k8s.io/component-base/version.gitTreeState=clean", KubernetesVersion, minor)
	tmp := out + ".tmp"
	os.RemoveAll(tmp)
	start := time.Now()
	b.logf("building Kubernetes %s (kube-apiserver, kube-controller-manager, kube-scheduler, kubectl) and etcd %s: a cold build takes ~30 CPU-minutes", KubernetesVersion, EtcdVersion)
	pkgs := []string{}
	for _, name := range kubeBinaries {
		pkgs = append(pkgs, "k8s.io/kubernetes/cmd/"+name)
	}
	if err := b.run(b.goCmd(ctx, src, append([]string{"build", "-mod=mod", "-trimpath", "-ldflags", ldflags, "-o", tmp + "/"}, pkgs...)...)); err != nil {
		return "", err
	}
	if err := b.run(b.goCmd(ctx, src, "build", "-mod=mod", "-trimpath", "-ldflags", "-s -w", "-o", filepath.Join(tmp, "etcd"), "go.etcd.io/etcd/server/v3")); err != nil {
		return "", err
	}
	os.RemoveAll(out)
	if err := os.Rename(tmp, out); err != nil {
		return "", fmt.Errorf("cluster: %w", err)
	}
	b.logf("built Kubernetes and etcd in %v", time.Since(start).Round(time.Second))
	return out, nil
}

// buildKnative builds Knative Serving's webhook, controller and autoscaler
// from a scratch module. The controller's and the autoscaler's mains are
// copies of Serving's with one change each: v0.42.2 hard-codes ":8080"
// for the controller's health probes (turned off, as sharedmain allows)
// and for the autoscaler's stats server (read from $STATS_SERVER_ADDR),
// which would collide with anything else on the machine.
func (b *Builder) buildKnative(ctx context.Context) (bin, networking, caching string, err error) {
	serving, err := b.moduleDir(ctx, "knative.dev/serving", ServingVersion)
	if err != nil {
		return "", "", "", err
	}
	smod, err := os.ReadFile(filepath.Join(serving, "go.mod"))
	if err != nil {
		return "", "", "", fmt.Errorf("cluster: %w", err)
	}
	dep := func(module string) (string, error) {
		m := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(module) + ` (v\S+)`).FindSubmatch(smod)
		if m == nil {
			return "", fmt.Errorf("cluster: knative.dev/serving %s requires no %s", ServingVersion, module)
		}
		return b.moduleDir(ctx, module, string(m[1]))
	}
	if networking, err = dep("knative.dev/networking"); err != nil {
		return "", "", "", err
	}
	if caching, err = dep("knative.dev/caching"); err != nil {
		return "", "", "", err
	}
	out := filepath.Join(b.Cache, "bin", "knative-serving-"+ServingVersion)
	if done(out, "webhook", "controller", "autoscaler") {
		return out, networking, caching, nil
	}
	read := func(p string) (string, error) {
		data, err := os.ReadFile(filepath.Join(serving, filepath.FromSlash(p)))
		if err != nil {
			return "", fmt.Errorf("cluster: %w", err)
		}
		return string(data), nil
	}
	files := map[string]string{}
	ctrl, err := read("cmd/controller/main.go")
	if err != nil {
		return "", "", "", err
	}
	const ctrlMain = `sharedmain.MainWithConfig(ctx, "controller"`
	if !strings.Contains(ctrl, ctrlMain) {
		return "", "", "", fmt.Errorf("cluster: knative.dev/serving %s cmd/controller/main.go: no %s to patch", ServingVersion, ctrlMain)
	}
	files["cmd/controller/main.go"] = strings.Replace(ctrl, ctrlMain, `sharedmain.MainWithConfig(sharedmain.WithHealthProbesDisabled(ctx), "controller"`, 1)
	as, err := read("cmd/autoscaler/main.go")
	if err != nil {
		return "", "", "", err
	}
	const statsNew = `statserver.New(statsServerAddr,`
	if !strings.Contains(as, statsNew) {
		return "", "", "", fmt.Errorf("cluster: knative.dev/serving %s cmd/autoscaler/main.go: no %s to patch", ServingVersion, statsNew)
	}
	files["cmd/autoscaler/main.go"] = strings.Replace(as, statsNew, `statserver.New(statsAddr(),`, 1)
	if files["cmd/autoscaler/leaderelection.go"], err = read("cmd/autoscaler/leaderelection.go"); err != nil {
		return "", "", "", err
	}
	files["cmd/autoscaler/statsaddr.go"] = "package main\n\nimport \"os\"\n\n// statsAddr is $STATS_SERVER_ADDR, else Serving's :8080.\n" +
		"func statsAddr() string {\n\tif a := os.Getenv(\"STATS_SERVER_ADDR\"); a != \"\" {\n\t\treturn a\n\t}\n\treturn statsServerAddr\n}\n"
	gomod := fmt.Sprintf("module pricefn.local/knative\n\ngo 1.26.0\n\nrequire knative.dev/serving %s\n", ServingVersion)
	src, err := b.scratch("knative-serving-"+ServingVersion, gomod, files)
	if err != nil {
		return "", "", "", err
	}
	tmp := out + ".tmp"
	os.RemoveAll(tmp)
	start := time.Now()
	b.logf("building Knative Serving %s (webhook, controller, autoscaler)", ServingVersion)
	if err := b.run(b.goCmd(ctx, src, "build", "-mod=mod", "-trimpath", "-ldflags", "-s -w", "-o", tmp+"/",
		"./cmd/controller", "./cmd/autoscaler", "knative.dev/serving/cmd/webhook")); err != nil {
		return "", "", "", err
	}
	os.RemoveAll(out)
	if err := os.Rename(tmp, out); err != nil {
		return "", "", "", fmt.Errorf("cluster: %w", err)
	}
	b.logf("built Knative Serving in %v", time.Since(start).Round(time.Second))
	return out, networking, caching, nil
}

// install builds module's main package at version with go install (its
// own go.mod decides its dependencies) and returns the binary's path.
func (b *Builder) install(ctx context.Context, pkg, version, name string) (string, error) {
	dir := filepath.Join(b.Cache, "bin", name+"-"+version)
	if done(dir, name) {
		return filepath.Join(dir, name), nil
	}
	start := time.Now()
	b.logf("building %s %s", name, version)
	cmd := b.goCmd(ctx, b.Cache, "install", "-trimpath", "-ldflags", "-s -w", pkg+"@"+version)
	cmd.Env = append(cmd.Env, "GOBIN="+dir)
	if err := b.run(cmd); err != nil {
		return "", err
	}
	if !done(dir, name) {
		return "", errors.New("cluster: go install " + pkg + "@" + version + " left no " + name + " in " + dir)
	}
	b.logf("built %s in %v", name, time.Since(start).Round(time.Second))
	return filepath.Join(dir, name), nil
}
