package engine

import "math"

// andersonMemory is the most past iterates an anderson acceleration uses.
const andersonMemory = 4

// anderson accelerates a fixed-point iteration x <- g(x) (Anderson 1965;
// Walker and Ni 2011, "Anderson acceleration for fixed-point iterations"):
// each step combines the last few iterates so that the combination of
// their residuals g(x) - x is least in the 2-norm. The fixed-point
// iteration of the exercise boundary converges linearly, often with
// oscillation, for long expiries; the acceleration cuts the steps it needs
// by about half.
type anderson struct {
	n, k   int                           // vector length, iterates stored
	mem    int                           // memory in use, <= andersonMemory
	x, f   [andersonMemory + 1][]float64 // past iterates and residuals, oldest first
	buffer []float64
}

// reset empties a's history for vectors of length n, with memory mem.
func (a *anderson) reset(n, mem int) {
	a.n, a.k, a.mem = n, 0, min(mem, andersonMemory)
	if cap(a.buffer) < 2*(andersonMemory+1)*n {
		a.buffer = make([]float64, 2*(andersonMemory+1)*n)
	}
	for i := range a.x {
		a.x[i] = a.buffer[2*i*n : (2*i+1)*n]
		a.f[i] = a.buffer[(2*i+1)*n : (2*i+2)*n]
	}
}

// step records the iterate x with its image g = g(x) and overwrites x
// with the next iterate: g itself until two iterates are known, then
// Σ α_i g_i over the stored iterates with Σ α_i = 1 minimising
// |Σ α_i (g_i - x_i)|. Where the least-squares system is singular it falls
// back to g.
func (a *anderson) step(x, g []float64) {
	if a.mem == 0 {
		copy(x, g)
		return
	}
	if a.k == a.mem+1 {
		// Drop the oldest.
		x0, f0 := a.x[0], a.f[0]
		copy(a.x[:], a.x[1:])
		copy(a.f[:], a.f[1:])
		a.x[a.mem], a.f[a.mem] = x0, f0
		a.k--
	}
	cur := a.k
	for i := range x {
		a.x[cur][i] = x[i]
		a.f[cur][i] = g[i] - x[i]
	}
	a.k++
	m := a.k - 1 // differences available
	if m == 0 {
		copy(x, g)
		return
	}
	// Least squares min |f_cur - ΔF γ|, ΔF_j = f_{j+1} - f_j, by the normal
	// equations (m <= 3 unknowns), then x = g - ΔG γ with
	// ΔG_j = ΔX_j + ΔF_j.
	var ata [andersonMemory][andersonMemory]float64
	var atb, gamma [andersonMemory]float64
	fc := a.f[cur]
	for j := range m {
		for l := j; l < m; l++ {
			s := 0.0
			for i := range a.n {
				s += (a.f[j+1][i] - a.f[j][i]) * (a.f[l+1][i] - a.f[l][i])
			}
			ata[j][l], ata[l][j] = s, s
		}
		s := 0.0
		for i := range a.n {
			s += (a.f[j+1][i] - a.f[j][i]) * fc[i]
		}
		atb[j] = s
	}
	if !solveSmall(&ata, &atb, &gamma, m) {
		copy(x, g)
		return
	}
	for i := range x {
		v := g[i]
		for j := range m {
			v -= gamma[j] * (a.x[j+1][i] - a.x[j][i] + a.f[j+1][i] - a.f[j][i])
		}
		x[i] = v
	}
}

// solveSmall solves the symmetric m x m system a·x = b by Gaussian
// elimination with partial pivoting, reporting false where a is
// numerically singular.
func solveSmall(a *[andersonMemory][andersonMemory]float64, b, x *[andersonMemory]float64, m int) bool {
	scale := 0.0
	for i := range m {
		scale = math.Max(scale, math.Abs(a[i][i]))
	}
	if !(scale > 0) || math.IsInf(scale, 0) {
		return false
	}
	for c := range m {
		p := c
		for r := c + 1; r < m; r++ {
			if math.Abs(a[r][c]) > math.Abs(a[p][c]) {
				p = r
			}
		}
		if math.Abs(a[p][c]) <= 1e-13*scale {
			return false
		}
		a[c], a[p] = a[p], a[c]
		b[c], b[p] = b[p], b[c]
		for r := c + 1; r < m; r++ {
			f := a[r][c] / a[c][c]
			for k := c; k < m; k++ {
				a[r][k] -= f * a[c][k]
			}
			b[r] -= f * b[c]
		}
	}
	for r := m - 1; r >= 0; r-- {
		s := b[r]
		for k := r + 1; k < m; k++ {
			s -= a[r][k] * x[k]
		}
		x[r] = s / a[r][r]
	}
	return true
}
