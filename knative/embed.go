// Package knative holds pricefn's own Knative manifests: the Broker
// (broker.yaml), its Triggers (triggers.yaml), the Knative Services of the
// public API and the functions (services.yaml), their Secrets with
// placeholder values (secrets.yaml) and a Redis for trials that keeps the
// batches' state (redis.yaml), as plain YAML for kubectl and ko. They are
// the output of the Helm chart charts/pricefn for its default values,
// checked in: the chart is their source (chart_test.go compares them).
//
// The manifests are also compiled into the binary, so "pricefn broker" can
// route events with the project's own Triggers on a machine with no files
// around: the Triggers are the one place the pipeline's routing is written.
package knative

import "embed"

//go:embed *.yaml
var manifests embed.FS

// Manifests returns the YAML files of this directory (broker.yaml,
// redis.yaml, secrets.yaml, services.yaml, triggers.yaml), read-only, at
// the root of the file system.
func Manifests() embed.FS {
	return manifests
}
