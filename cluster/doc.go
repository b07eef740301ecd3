// Package cluster runs a real Kubernetes control plane with Knative
// Serving on one machine, without containers, for pricefn's cluster test
// (make cluster-test): etcd, kube-apiserver, kube-controller-manager and
// kube-scheduler built from the Kubernetes module, kwok to fake a node and
// the lifecycle of its pods, and Knative Serving's webhook, controller and
// autoscaler as local processes. Every API object is real: the API server
// validates it against its schema (the Knative Eventing CRDs included),
// Knative's webhook admits it and Knative's controller reconciles it into
// Revisions, Deployments, pods and PodAutoscalers. Nothing runs inside the
// pods and there is no networking layer (Kourier needs Envoy).
//
// The binaries are built once into a cache folder (Builder, DefaultCache)
// and kept between runs: a cold build takes about 33 CPU-minutes.
//
// This is a module of its own so that the Kubernetes module's dependency
// graph never meets pricefn's.
package cluster
