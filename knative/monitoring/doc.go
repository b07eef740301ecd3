// Package monitoring holds pricefn's observability files, shipped as they
// are (the Helm chart makes ConfigMaps of the dashboards for Grafana's
// sidecar, and applies the monitors):
//
//	dashboard-latency.json            p50, p95, p99 end to end and per stage
//	dashboard-throughput-errors.json  batches, chunks and trades; failures, retries, dead letters, duplicates, rejections
//	dashboard-scaling.json            requests in flight per function beside Knative's autoscaler and activator
//	dashboard-pricing-cost.json       pricing time by trade type, curves built and reused
//	dashboard-cold-starts.json        process start to first request served
//	podmonitor.yaml                   prometheus-operator: the functions' and the API's /metrics
//	knative-servicemonitor.yaml       prometheus-operator: Knative's autoscaler and activator
//	prometheus.yml                    a local Prometheus scraping "pricefn dev" (make observe)
//
// Every dashboard takes its data source as the template variable
// "datasource" and filters by "namespace". The package's test starts
// pricefn dev and a real Prometheus scraping it with prometheus.yml,
// makes every path of the pipeline happen, and evaluates every query of
// every panel through Prometheus's HTTP API: each must parse and return
// data, Knative's own series excepted.
package monitoring
