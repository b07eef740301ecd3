// Package hugeheap has the Go heap's next allocations backed by transparent
// huge pages, for a process that builds a large heap quickly (Advise).
package hugeheap
