//go:build tools

// Package pricefn pins the module's dependencies while the packages that use
// them are being written. Removed once every dependency has a real importer.
package pricefn

import (
	_ "github.com/cloudevents/sdk-go/v2"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/rs/zerolog"
	_ "golang.org/x/sync/errgroup"
	_ "sigs.k8s.io/yaml"
)
