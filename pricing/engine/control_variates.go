package engine

import "math"

// mcEstimate is a Monte Carlo mean and its standard error.
type mcEstimate struct {
	mean, stdErr float64
}

// cvMoments accumulates the sample moments of a sample x and of two control
// variates c1 and c2 whose expectations are 0, for the regression estimator
// mean(x) - b·mean(c), b = Cov(c)⁻¹·Cov(c, x), the variance-minimising
// coefficients (Glasserman 2003, section 4.1). x is shifted by its first
// sample so that its variance does not cancel when x hardly varies; where x
// does not vary at all, b is 0 and the estimate is x's exact mean.
type cvMoments struct {
	n, shift                    float64
	x, c1, c2                   float64 // sums
	xx, c11, c22, c12, xc1, xc2 float64 // sums of products
}

// add accumulates one sample.
func (m *cvMoments) add(x, c1, c2 float64) {
	if m.n == 0 {
		m.shift = x
	}
	x -= m.shift
	m.n++
	m.x += x
	m.c1 += c1
	m.c2 += c2
	m.xx += x * x
	m.c11 += c1 * c1
	m.c22 += c2 * c2
	m.c12 += c1 * c2
	m.xc1 += x * c1
	m.xc2 += x * c2
}

// estimate returns scale times the regression estimate of E[x] and its
// standard error, on n - 3 degrees of freedom; at least 4 samples are
// needed. Where the two controls are (nearly) collinear it regresses on the
// one that varies, if any.
func (m *cvMoments) estimate(scale float64) mcEstimate {
	n := m.n
	mx, m1, m2 := m.x/n, m.c1/n, m.c2/n
	vxx := m.xx/n - mx*mx
	v11 := m.c11/n - m1*m1
	v22 := m.c22/n - m2*m2
	v12 := m.c12/n - m1*m2
	vx1 := m.xc1/n - mx*m1
	vx2 := m.xc2/n - mx*m2
	var b1, b2 float64
	switch det := v11*v22 - v12*v12; {
	case v11 > 0 && v22 > 0 && det > 1e-10*v11*v22:
		b1 = (vx1*v22 - vx2*v12) / det
		b2 = (vx2*v11 - vx1*v12) / det
	case v11 > 0:
		b1 = vx1 / v11
	case v22 > 0:
		b2 = vx2 / v22
	}
	mean := m.shift + mx - b1*m1 - b2*m2
	res := vxx - 2*b1*vx1 - 2*b2*vx2 + b1*b1*v11 + 2*b1*b2*v12 + b2*b2*v22
	return mcEstimate{mean: scale * mean, stdErr: scale * math.Sqrt(max(res, 0)/(n-3))}
}

// control returns scale times the estimate of c1Mean + E[c1] from the same
// samples, and its standard error: with c1 a simulated value less its
// closed form c1Mean, a check of the paths.
func (m *cvMoments) control(c1Mean, scale float64) mcEstimate {
	n := m.n
	m1 := m.c1 / n
	v11 := max(m.c11/n-m1*m1, 0)
	return mcEstimate{mean: scale * (c1Mean + m1), stdErr: scale * math.Sqrt(v11/(n-1))}
}
