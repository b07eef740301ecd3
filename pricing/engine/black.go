package engine

import "math"

// The Black (1976) formulas on a forward, the one copy every engine uses:
// undiscounted, on forward f and strike k, with sd the standard deviation
// of the log-forward to expiry (vol·sqrt(T)), or for Bachelier's normal
// model that of the forward itself.

// blackForward returns the undiscounted value of a call (put if !call)
// struck at k on a lognormal forward f with log-standard deviation sd > 0,
// and its derivatives by f (delta) and by sd (vega per unit of sd). f and k
// must be > 0.
func blackForward(call bool, f, k, sd float64) (value, delta, vegaSD float64) {
	d1 := math.Log(f/k)/sd + 0.5*sd
	d2 := d1 - sd
	if call {
		n1 := normCDF(d1)
		value = f*n1 - k*normCDF(d2)
		delta = n1
	} else {
		n1 := normCDF(-d1)
		value = k*normCDF(-d2) - f*n1
		delta = -n1
	}
	return max(value, 0), delta, f * normPDF(d1)
}

// bachelierForward returns the undiscounted value of a call (put if !call)
// struck at k on a normal forward f with standard deviation sd > 0, and its
// derivatives by f (delta) and by sd.
func bachelierForward(call bool, f, k, sd float64) (value, delta, vegaSD float64) {
	w := f - k
	if !call {
		w = -w
	}
	d := w / sd
	value = w*normCDF(d) + sd*normPDF(d)
	delta = normCDF(d)
	if !call {
		delta = -delta
	}
	return max(value, 0), delta, normPDF(d)
}
