//go:build !linux

package batch

import "time"

// threadCPU cannot read a thread's CPU time here: the runs' CPU is taken
// to be their wall time.
func threadCPU() (time.Duration, bool) { return 0, false }
