package engine

import "math"

// The 7-point Gauss and 15-point Kronrod rules on [-1, 1] (QUADPACK's
// qk15): xgk are the Kronrod abscissae, the odd ones (1, 3, 5, 7) also the
// Gauss abscissae; wgk the Kronrod weights and wg the Gauss weights of the
// odd ones. The last abscissa is the midpoint.
var (
	xgk = [8]float64{
		0.991455371120812639206854697526329, 0.949107912342758524526189684047851,
		0.864864423359769072789712788640926, 0.741531185599394439863864773280788,
		0.586087235467691130294144845693013, 0.405845151377397166906606412076961,
		0.207784955007898467600689403773245, 0,
	}
	wgk = [8]float64{
		0.022935322010529224963732008058970, 0.063092092629978553290700663189204,
		0.104790010322250183839876322541518, 0.140653259715525918745189590510238,
		0.169004726639267902826583426598550, 0.190350578064785409913256402421014,
		0.204432940075298892414161999234649, 0.209482141084727828012999174891714,
	}
	wg = [4]float64{
		0.129484966168869693270611432679082, 0.279705391489276667901467771423780,
		0.381830050505118944950369775488975, 0.417959183673469387755102040816327,
	}
)

// kronrodPiece is one subinterval of an adaptive integration: its ends,
// its 15-point estimate and that estimate's error.
type kronrodPiece struct {
	a, b, value, err float64
}

// kronrod15 integrates f over [a, b] with the 15-point Kronrod rule and
// estimates the error as QUADPACK's qk15 does, from the difference to the
// embedded 7-point Gauss rule scaled by the integrand's variation, which
// for smooth integrands is far closer to the truth than the raw difference.
func kronrod15(f func(float64) float64, a, b float64) kronrodPiece {
	c, h := 0.5*(a+b), 0.5*(b-a)
	fc := f(c)
	resK := fc * wgk[7]
	resG := fc * wg[3]
	resAbs := math.Abs(resK)
	var fv1, fv2 [7]float64
	for j := 0; j < 7; j++ {
		x := h * xgk[j]
		f1, f2 := f(c-x), f(c+x)
		fv1[j], fv2[j] = f1, f2
		resK += wgk[j] * (f1 + f2)
		resAbs += wgk[j] * (math.Abs(f1) + math.Abs(f2))
		if j&1 == 1 {
			resG += wg[j/2] * (f1 + f2)
		}
	}
	mean := resK * 0.5
	resAsc := wgk[7] * math.Abs(fc-mean)
	for j := 0; j < 7; j++ {
		resAsc += wgk[j] * (math.Abs(fv1[j]-mean) + math.Abs(fv2[j]-mean))
	}
	value := resK * h
	resAbs *= math.Abs(h)
	resAsc *= math.Abs(h)
	err := math.Abs((resK - resG) * h)
	if resAsc != 0 && err != 0 {
		err = resAsc * math.Min(1, math.Pow(200*err/resAsc, 1.5))
	}
	if resAbs > math.SmallestNonzeroFloat64/(50*qlEpsilon) {
		err = math.Max(50*qlEpsilon*resAbs, err)
	}
	return kronrodPiece{a: a, b: b, value: value, err: err}
}

// adaptiveKronrod integrates f over [a, b] to an absolute error of tol by
// global adaptive bisection (QUADPACK's qag): it starts from pieces equal
// subintervals and bisects the piece with the largest error estimate until
// the estimates sum to at most tol, or maxPieces pieces are reached. It
// returns the integral, the error estimate and the number of evaluations.
func adaptiveKronrod(f func(float64) float64, a, b float64, pieces int, tol float64, maxPieces int) (value, err float64, evals int) {
	ps := make([]kronrodPiece, 0, max(maxPieces, pieces)+1)
	w := (b - a) / float64(pieces)
	for i := range pieces {
		hi := a + float64(i+1)*w
		if i == pieces-1 {
			hi = b
		}
		ps = append(ps, kronrod15(f, a+float64(i)*w, hi))
	}
	evals = 15 * pieces
	for {
		value, err = 0, 0
		worst := 0
		for i, p := range ps {
			value += p.value
			err += p.err
			if p.err > ps[worst].err {
				worst = i
			}
		}
		if err <= tol || len(ps) >= maxPieces {
			return value, err, evals
		}
		p := ps[worst]
		m := 0.5 * (p.a + p.b)
		if m <= p.a || m >= p.b {
			return value, err, evals // the piece cannot be split further
		}
		ps[worst] = kronrod15(f, p.a, m)
		ps = append(ps, kronrod15(f, m, p.b))
		evals += 30
	}
}
