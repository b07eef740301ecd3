//go:build !race

package engine

// amStride is the fraction of the larger test tables the tests price: all
// of them without the race detector.
const amStride = 1
