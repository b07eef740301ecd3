package plan

import (
	"container/heap"
	"time"
)

// eventKind says what happens at an event.
type eventKind uint8

const (
	evArrival       eventKind = iota // a request arrives (arg: index in the workload)
	evPodReady                       // a pod becomes ready (arg: pod id)
	evPodDone                        // a pod's next request finishes (arg: pod id, ver: its version)
	evPodGone                        // a terminating pod's drain ends (arg: pod id)
	evActivatorTick                  // the activator reports its stats (every second)
	evScrape                         // the autoscaler scrapes the pods (every second)
	evDeciderTick                    // the decider's tick (every 2 s)
	evReconcile                      // a PodAutoscaler reconcile enqueued for later
	evSample                         // the timeline takes a sample
)

// event is one thing that happens at a simulated time. Events at the same
// time run in the order they were scheduled (seq).
type event struct {
	at   time.Duration
	seq  uint64
	kind eventKind
	arg  int
	ver  uint64
}

// eventQueue is a min-heap of events by (at, seq).
type eventQueue []event

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].seq < q[j].seq
}
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)   { *q = append(*q, x.(event)) }
func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

var _ heap.Interface = (*eventQueue)(nil)
