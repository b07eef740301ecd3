//go:build race

package engine

// amStride is the fraction of the larger test tables the tests price: under
// the race detector, which slows the arithmetic some twentyfold, every third
// case.
const amStride = 3
