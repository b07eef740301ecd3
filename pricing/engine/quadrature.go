package engine

import "math"

// kronrodRule is a Gauss-Kronrod pair on [-1, 1] as QUADPACK lays it out:
// xgk are the Kronrod abscissae from the largest down to the midpoint 0,
// the odd ones (1, 3, ...) also the Gauss abscissae; wgk the Kronrod
// weights; wg the Gauss weights of the odd ones, then of the midpoint where
// it is a Gauss abscissa too (an odd number of Gauss points).
type kronrodRule struct {
	xgk, wgk, wg []float64
}

// maxKronrodPairs is the most abscissae off the midpoint on either side
// that a kronrodRule has (15, for gk31).
const maxKronrodPairs = 15

// gk15 is the 7-point Gauss and 15-point Kronrod pair (QUADPACK's qk15).
var gk15 = kronrodRule{
	xgk: []float64{
		0.991455371120812639206854697526329, 0.949107912342758524526189684047851,
		0.864864423359769072789712788640926, 0.741531185599394439863864773280788,
		0.586087235467691130294144845693013, 0.405845151377397166906606412076961,
		0.207784955007898467600689403773245, 0,
	},
	wgk: []float64{
		0.022935322010529224963732008058970, 0.063092092629978553290700663189204,
		0.104790010322250183839876322541518, 0.140653259715525918745189590510238,
		0.169004726639267902826583426598550, 0.190350578064785409913256402421014,
		0.204432940075298892414161999234649, 0.209482141084727828012999174891714,
	},
	wg: []float64{
		0.129484966168869693270611432679082, 0.279705391489276667901467771423780,
		0.381830050505118944950369775488975, 0.417959183673469387755102040816327,
	},
}

// gk31 is the 15-point Gauss and 31-point Kronrod pair (QUADPACK's qk31,
// Fullerton's values to 33 digits).
var gk31 = kronrodRule{
	xgk: []float64{
		0.998002298693397060285172840152271, 0.987992518020485428489565718586613,
		0.967739075679139134257347978784337, 0.937273392400705904307758947710209,
		0.897264532344081900882509656454496, 0.848206583410427216200648320774217,
		0.790418501442465932967649294817947, 0.724417731360170047416186054613938,
		0.650996741297416970533735895313275, 0.570972172608538847537226737253911,
		0.485081863640239680693655740232351, 0.394151347077563369897207370981045,
		0.299180007153168812166780024266389, 0.201194093997434522300628303394596,
		0.101142066918717499027074231447392, 0,
	},
	wgk: []float64{
		0.005377479872923348987792051430128, 0.015007947329316122538374763075807,
		0.025460847326715320186874001019653, 0.035346360791375846222037948478360,
		0.044589751324764876608227299373280, 0.053481524690928087265343147239430,
		0.062009567800670640285139230960803, 0.069854121318728258709520077099147,
		0.076849680757720378894432777482659, 0.083080502823133021038289247286104,
		0.088564443056211770647275443693774, 0.093126598170825321225486872747346,
		0.096642726983623678505179907627589, 0.099173598721791959332393173484603,
		0.100769845523875595044946662617570, 0.101330007014791549017374792767493,
	},
	wg: []float64{
		0.030753241996117268354628393577204, 0.070366047488108124709267416450667,
		0.107159220467171935011869546685869, 0.139570677926154314447804794511028,
		0.166269205816993933553200860481209, 0.186161000015562211026800561866423,
		0.198431485327111576456118326443839, 0.202578241925561272880620199967519,
	},
}

// kronrodPiece is one subinterval of an adaptive integration: its ends,
// its 15-point estimate and that estimate's error.
type kronrodPiece struct {
	a, b, value, err float64
}

// evals is the rule's number of abscissae.
func (r *kronrodRule) evals() int { return 2*len(r.xgk) - 1 }

// piece integrates f over [a, b] with the Kronrod rule and estimates the
// error as QUADPACK's qk15 and qk31 do, from the difference to the
// embedded Gauss rule scaled by the integrand's variation, which for
// smooth integrands is far closer to the truth than the raw difference.
func (r *kronrodRule) piece(f func(float64) float64, a, b float64) kronrodPiece {
	n := len(r.xgk) - 1 // the abscissae off the midpoint, on either side
	c, h := 0.5*(a+b), 0.5*(b-a)
	fc := f(c)
	resK := fc * r.wgk[n]
	resG := 0.0
	if 2*len(r.wg) > n {
		resG = fc * r.wg[len(r.wg)-1]
	}
	resAbs := math.Abs(resK)
	var fv1, fv2 [maxKronrodPairs]float64
	for j := range n {
		x := h * r.xgk[j]
		f1, f2 := f(c-x), f(c+x)
		fv1[j], fv2[j] = f1, f2
		resK += r.wgk[j] * (f1 + f2)
		resAbs += r.wgk[j] * (math.Abs(f1) + math.Abs(f2))
		if j&1 == 1 {
			resG += r.wg[j/2] * (f1 + f2)
		}
	}
	mean := resK * 0.5
	resAsc := r.wgk[n] * math.Abs(fc-mean)
	for j := range n {
		resAsc += r.wgk[j] * (math.Abs(fv1[j]-mean) + math.Abs(fv2[j]-mean))
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

// adaptiveKronrod integrates f over [a, b] with the rule r to an absolute
// error of tol by global adaptive bisection (QUADPACK's qag): it starts from pieces equal
// subintervals and bisects the piece with the largest error estimate until
// the estimates sum to at most tol, or maxPieces pieces are reached. It
// returns the integral, the error estimate and the number of evaluations.
func adaptiveKronrod(r *kronrodRule, f func(float64) float64, a, b float64, pieces int, tol float64, maxPieces int) (value, err float64, evals int) {
	ps := make([]kronrodPiece, 0, max(maxPieces, pieces)+1)
	w := (b - a) / float64(pieces)
	for i := range pieces {
		hi := a + float64(i+1)*w
		if i == pieces-1 {
			hi = b
		}
		ps = append(ps, r.piece(f, a+float64(i)*w, hi))
	}
	evals = r.evals() * pieces
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
		ps[worst] = r.piece(f, p.a, m)
		ps = append(ps, r.piece(f, m, p.b))
		evals += 2 * r.evals()
	}
}
