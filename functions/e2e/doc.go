// Package e2e holds the end-to-end tests of the pipeline: the broker,
// ingress, pricer and aggregator each on its own loopback HTTP server,
// wired as on Knative (the broker reads the project's Triggers), checked
// against in-process pricing bit for bit.
package e2e
