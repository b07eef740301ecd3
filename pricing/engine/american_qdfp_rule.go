package engine

import "math"

// qdfpRule holds the fixed numerical ingredients of one QdFpAmerican scheme:
// the Chebyshev-Lobatto nodes of the exercise boundary and the Gauss-Legendre
// rules of the fixed-point and pricing integrals. The integrals over time are
// taken in an angle θ in (0, π/2) with u = τ·sin²θ (so sqrt(u) and
// sqrt(τ-u) are both analytic in θ: the boundary's interpolant is a
// polynomial in sqrt(u), the transition densities are functions of
// sqrt(τ-u)); the rules store sin θ, cos θ and the weight of each point. A
// rule is immutable once built.
type qdfpRule struct {
	// n is the number of Chebyshev intervals: the boundary has n+1 nodes
	// ξ_k = (1+cos(kπ/n))/2 in ξ = sqrt(τ/T), from ξ_0 = 1 to ξ_n = 0.
	n int
	// cosPi[m] is cos(mπ/n) for m = 0..n.
	cosPi []float64
	// fp is the rule of the fixed-point integrals (l points), px the rule of
	// the premium and greek integrals (p points).
	fp, px qdfpAngles
	// chk is the coarse rule of the premium that decides when the
	// fixed-point iteration has converged.
	chk qdfpAngles
}

// qdfpCheckPoints is the Gauss-Legendre order of the convergence check.
const qdfpCheckPoints = 8

// qdfpAngles is a Gauss-Legendre rule on θ in (0, π/2): sin θ, cos θ and
// the weight of each point, the weight including the Jacobian sin 2θ of
// u = sin²θ, so that Σ w_j g(sin²θ_j) approximates ∫_0^1 g(u) du.
type qdfpAngles struct {
	sin, cos, w []float64
	// x and lw are the Gauss-Legendre nodes and weights on [-1, 1], for a
	// rule over part of the angles.
	x, lw []float64
}

// newQdfpRule builds the rule of n Chebyshev intervals, l fixed-point and p
// pricing quadrature points.
func newQdfpRule(n, l, p int) *qdfpRule {
	r := &qdfpRule{n: n, cosPi: make([]float64, n+1), fp: newQdfpAngles(l), px: newQdfpAngles(p), chk: newQdfpAngles(qdfpCheckPoints)}
	for m := range r.cosPi {
		r.cosPi[m] = math.Cos(float64(m) * math.Pi / float64(n))
	}
	// Exact symmetry, so that the middle node is exactly 0 and nodes mirror.
	for m := 0; 2*m <= n; m++ {
		r.cosPi[n-m] = -r.cosPi[m]
	}
	if n%2 == 0 {
		r.cosPi[n/2] = 0
	}
	return r
}

// newQdfpAngles maps the l-point Gauss-Legendre rule to θ = π/4·(1+x).
func newQdfpAngles(l int) qdfpAngles {
	x, w := gaussLegendre(l)
	a := qdfpAngles{sin: make([]float64, l), cos: make([]float64, l), w: make([]float64, l), x: x, lw: w}
	for j := range x {
		th := math.Pi / 4 * (1 + x[j])
		a.sin[j], a.cos[j] = math.Sincos(th)
		a.w[j] = math.Pi / 4 * w[j] * 2 * a.sin[j] * a.cos[j]
	}
	return a
}

// gaussLegendre returns the nodes (ascending) and weights of the n-point
// Gauss-Legendre rule on [-1, 1], by Newton's method on the Legendre
// polynomial P_n from Tricomi's approximation of its roots; accurate to a
// few ulps for n up to several hundred.
func gaussLegendre(n int) (x, w []float64) {
	x, w = make([]float64, n), make([]float64, n)
	for i := 0; i < (n+1)/2; i++ {
		// The i-th largest root.
		z := math.Cos(math.Pi * (float64(i) + 0.75) / (float64(n) + 0.5))
		var dp float64
		for range 100 {
			p0, p1 := 1.0, z
			for k := 2; k <= n; k++ {
				p0, p1 = p1, (float64(2*k-1)*z*p1-float64(k-1)*p0)/float64(k)
			}
			if n == 1 {
				p0, p1 = 1, z
			}
			dp = float64(n) * (z*p1 - p0) / (z*z - 1)
			dz := p1 / dp
			z -= dz
			if math.Abs(dz) <= 1e-15 {
				break
			}
		}
		// Recompute the derivative at the converged root.
		p0, p1 := 1.0, z
		for k := 2; k <= n; k++ {
			p0, p1 = p1, (float64(2*k-1)*z*p1-float64(k-1)*p0)/float64(k)
		}
		if n == 1 {
			p0, p1 = 1, z
		}
		dp = float64(n) * (z*p1 - p0) / (z*z - 1)
		x[n-1-i], x[i] = z, -z
		w[i] = 2 / ((1 - z*z) * dp * dp)
		w[n-1-i] = w[i]
	}
	if n%2 == 1 {
		x[n/2] = 0
	}
	return x, w
}

// chebCoeffs sets c to the Chebyshev coefficients of the polynomial of
// degree n through the values f[k] at the Chebyshev-Lobatto nodes
// x_k = cos(kπ/n), k = 0..n (a discrete cosine transform of type I).
func (r *qdfpRule) chebCoeffs(f, c []float64) {
	n := r.n
	for j := 0; j <= n; j++ {
		s := 0.5 * (f[0] + r.cosAt(j*n)*f[n])
		for k := 1; k < n; k++ {
			s += f[k] * r.cosAt(j*k)
		}
		c[j] = 2 * s / float64(n)
	}
	c[0] /= 2
	c[n] /= 2
}

// cosAt returns cos(mπ/n) for any m >= 0 from the table.
func (r *qdfpRule) cosAt(m int) float64 {
	n := r.n
	m %= 2 * n
	if m > n {
		m = 2*n - m
	}
	return r.cosPi[m]
}

// chebEval evaluates Σ c_j T_j(x) by Clenshaw's recurrence.
func chebEval(c []float64, x float64) float64 {
	var b1, b2 float64
	x2 := 2 * x
	for j := len(c) - 1; j >= 1; j-- {
		b1, b2 = c[j]+x2*b1-b2, b1
	}
	return c[0] + x*b1 - b2
}

// chebBasis sets t[j] = T_j(x), j = 0..len(t)-1, the Chebyshev polynomials
// at x by their three-term recurrence.
func chebBasis(x float64, t []float64) {
	t[0] = 1
	if len(t) > 1 {
		t[1] = x
	}
	for j := 2; j < len(t); j++ {
		t[j] = 2*x*t[j-1] - t[j-2]
	}
}

// dot returns Σ a[i]·b[i] over len(a) terms, with two accumulators.
func dot(a, b []float64) float64 {
	b = b[:len(a)]
	var s0, s1 float64
	i := 0
	for ; i+1 < len(a); i += 2 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
	}
	if i < len(a) {
		s0 += a[i] * b[i]
	}
	return s0 + s1
}
