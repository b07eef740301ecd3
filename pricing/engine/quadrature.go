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
// that a kronrodRule has (20, for gk41).
const maxKronrodPairs = 20

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

// gk41 is the 20-point Gauss and 41-point Kronrod pair (QUADPACK's qk41,
// Fullerton's values to 33 digits).
var gk41 = kronrodRule{
	xgk: []float64{
		0.998859031588277663838315576545863, 0.993128599185094924786122388471320,
		0.981507877450250259193342994720217, 0.963971927277913791267666131197277,
		0.940822633831754753519982722212443, 0.912234428251325905867752441203298,
		0.878276811252281976077442995113078, 0.839116971822218823394529061701521,
		0.795041428837551198350638833272788, 0.746331906460150792614305070355642,
		0.693237656334751384805490711845932, 0.636053680726515025452836696226286,
		0.575140446819710315342946036586425, 0.510867001950827098004364050955251,
		0.443593175238725103199992213492640, 0.373706088715419560672548177024927,
		0.301627868114913004320555356858592, 0.227785851141645078080496195368575,
		0.152605465240922675505220241022678, 0.076526521133497333754640409398838,
		0,
	},
	wgk: []float64{
		0.003073583718520531501218293246031, 0.008600269855642942198661787950102,
		0.014626169256971252983787960308868, 0.020388373461266523598010231432755,
		0.025882133604951158834505067096153, 0.031287306777032798958543119323801,
		0.036600169758200798030557240707211, 0.041668873327973686263788305936895,
		0.046434821867497674720231880926108, 0.050944573923728691932707670050345,
		0.055195105348285994744832372419777, 0.059111400880639572374967220648594,
		0.062653237554781168025870122174255, 0.065834597133618422111563556969398,
		0.068648672928521619345623411885368, 0.071054423553444068305790361723210,
		0.073030690332786667495189417658913, 0.074582875400499188986581418362488,
		0.075704497684556674659542775376617, 0.076377867672080736705502835038061,
		0.076600711917999656445049901530102,
	},
	wg: []float64{
		0.017614007139152118311861962351853, 0.040601429800386941331039952274932,
		0.062672048334109063569506535187042, 0.083276741576704748724758143222046,
		0.101930119817240435036750135480350, 0.118194531961518417312377377711382,
		0.131688638449176626898494499748163, 0.142096109318382051329298325067165,
		0.149172986472603746787828737001969, 0.152753387130725850698084331955098,
	},
}

// kronrodPiece is one subinterval of an adaptive integration: its ends,
// its Kronrod estimate and that estimate's error.
type kronrodPiece struct {
	a, b, value, err float64
}

// evals is the rule's number of abscissae.
func (r *kronrodRule) evals() int { return 2*len(r.xgk) - 1 }

// piece integrates f over [a, b] with the Kronrod rule and estimates the
// error as QUADPACK's qk15 and qk41 do, from the difference to the
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
	// Most integrals end within a few pieces: their room is on the stack,
	// and a longer one grows it on the heap as it goes. Room for maxPieces
	// made up front was 16 KB to clear on every call, a tenth of a Heston
	// price.
	var room [16]kronrodPiece
	ps := room[:0]
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
