package batch

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"time"
)

// SampleSpec describes a sample batch: N trades of one kind.
type SampleSpec struct {
	// Type is a trade type (european, american, barrier, asian,
	// asian-arithmetic, fra, swap, bond, swaption, capfloor),
	// european-put or seed-put (SampleSeedPut).
	Type string
	// N is the number of trades.
	N int
	// Seed seeds the trade terms; the same spec gives the same batch.
	Seed uint64
	// ID is the batch id; empty leaves it for ingress to assign.
	ID string
	// Measures to ask for; empty means npv.
	Measures []string
	// Scenarios, when above 0, adds as many scenarios (wire format
	// section 1c), each a random day's move of every curve and underlying,
	// and a risk block asking for VaR at 99% and ES at 97.5%.
	Scenarios int
}

// SampleTypes lists the kinds Sample makes.
var SampleTypes = []string{"european", "european-put", "american", "barrier", "asian", "asian-arithmetic", "fra", "swap", "bond", "swaption", "capfloor", SampleSeedPut}

// SampleSeedPut is the sample kind of the seed's own trade, the one its
// OptionPV query priced: every trade is the same European put, strike 40,
// on an underlying at 36 with a 20% vol and no dividends, rates flat at
// 6% (continuous, Act/365F), expiring 365 days after the valuation date.
// Its npv is 3.844308 (Black-Scholes, as QuantLib's
// AnalyticEuropeanEngine).
const SampleSeedPut = "seed-put"

// SampleSeedPutTerms describes the SampleSeedPut trade, for people.
const SampleSeedPutTerms = "European put, strike 40, spot 36, rate 6%, vol 20%, no dividends, expiry 365 days after the valuation date (npv 3.844308)"

// seedPutMarket is the market of SampleSeedPut batches.
const seedPutMarket = `{"curves":{"USD":{"rate":0.06}},"underlyings":{"SEED":{"spot":36,"dividendYield":0,"vol":0.2,"curve":"USD"}}}`

// sampleValuationDate is the valuation date of sample batches.
var sampleValuationDate = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)

// sampleMarket is the market of every sample batch: three equity
// underlyings on a flat USD curve and an EUR zero curve for rates trades.
const sampleMarket = `{"curves":{` +
	`"USD":{"rate":0.05},` +
	`"EUR":{"zeros":[{"date":"2027-11-25","rate":0.03},{"date":"2031-11-25","rate":0.035},{"date":"2036-11-25","rate":0.037}]}},` +
	`"underlyings":{` +
	`"ACME":{"spot":100,"dividendYield":0.02,"vol":0.25,"curve":"USD"},` +
	`"GLOBEX":{"spot":55.5,"dividendYield":0.01,"vol":0.35,"curve":"USD"},` +
	`"INITECH":{"spot":230,"vol":0.2,"curve":"USD"}}}`

var sampleSpots = []struct {
	name string
	spot float64
}{{"ACME", 100}, {"GLOBEX", 55.5}, {"INITECH", 230}}

// Sample returns a batch document of spec.N trades of spec.Type, valued on
// 2026-11-25, with deterministic terms drawn from spec.Seed.
func Sample(spec SampleSpec) ([]byte, error) {
	return SampleContext(context.Background(), spec)
}

// sampleCtxTrades is how many trades SampleContext makes between looks at
// its context.
const sampleCtxTrades = 1 << 12

// SampleContext is Sample, stopped with ctx's cause once ctx ends: a
// sample of millions of trades takes seconds and hundreds of megabytes.
func SampleContext(ctx context.Context, spec SampleSpec) ([]byte, error) {
	gen, ok := sampleTrades[spec.Type]
	if !ok {
		return nil, fmt.Errorf("batch: sample type %q: want one of %v", spec.Type, SampleTypes)
	}
	if spec.N < 0 {
		return nil, fmt.Errorf("batch: sample of %d trades", spec.N)
	}
	if spec.Scenarios < 0 || spec.Scenarios > MaxScenarios {
		return nil, fmt.Errorf("batch: sample of %d scenarios: want 0 to %d", spec.Scenarios, MaxScenarios)
	}
	rng := rand.New(rand.NewPCG(spec.Seed, uint64(spec.N)))
	b := make([]byte, 0, 512+160*spec.N)
	b = append(b, '{')
	if spec.ID != "" {
		b = append(b, `"id":`...)
		b = appendString(b, spec.ID)
		b = append(b, ',')
	}
	b = append(b, `"valuationDate":"2026-11-25",`...)
	if len(spec.Measures) > 0 {
		b = append(b, `"measures":[`...)
		for i, m := range spec.Measures {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, m)
		}
		b = append(b, "],"...)
	}
	b = append(b, `"market":`...)
	if spec.Type == SampleSeedPut {
		b = append(b, seedPutMarket...)
	} else {
		b = append(b, sampleMarket...)
	}
	b = append(b, `,"trades":[`...)
	for i := range spec.N {
		if i%sampleCtxTrades == 0 && ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, "\n"...)
		b = gen(b, i, rng)
	}
	b = append(b, "\n]"...)
	if spec.Scenarios > 0 {
		b = appendSampleScenarios(b, spec.Scenarios, rand.New(rand.NewPCG(spec.Seed, ^uint64(spec.Scenarios))))
	}
	return append(b, "}\n"...), nil
}

// appendSampleScenarios appends n scenarios, as a day's moves: every
// curve shifted in parallel (8 bp a day, one standard deviation), every
// underlying's spot by 2% and vol by 5% (relative), and a risk block.
func appendSampleScenarios(b []byte, n int, rng *rand.Rand) []byte {
	num := func(sd float64) []byte {
		return strconv.AppendFloat(nil, math.Round(rng.NormFloat64()*sd*1e6)/1e6, 'g', -1, 64)
	}
	b = append(b, `,"scenarios":[`...)
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, "\n{\"id\":\"s%05d\",\"curves\":{\"*\":{\"parallel\":%s}},\"underlyings\":{\"*\":{\"spotRel\":%s,\"volRel\":%s}}}",
			i+1, num(0.0008), num(0.02), num(0.05))
	}
	return append(b, "\n],\"risk\":{\"var\":[0.99],\"es\":[0.975]}"...)
}

// sampleGen appends trade i's JSON to b.
type sampleGen func(b []byte, i int, rng *rand.Rand) []byte

var sampleTrades = map[string]sampleGen{
	"european":         sampleOptionGen("european", "E", ""),
	"european-put":     sampleOptionGen("european", "E", "put"),
	"american":         sampleOptionGen("american", "A", ""),
	"barrier":          sampleBarrier,
	"asian":            sampleAsianGen("geometric", "AG"),
	"asian-arithmetic": sampleAsianGen("arithmetic", "AA"),
	"fra":              sampleFRA,
	"swap":             sampleSwap,
	"bond":             sampleBond,
	"swaption":         sampleSwaption,
	"capfloor":         sampleCapFloor,
	SampleSeedPut:      sampleSeedPut,
}

// sampleSeedPut appends the seed's put (SampleSeedPut).
func sampleSeedPut(b []byte, i int, _ *rand.Rand) []byte {
	b = append(b, `{"id":"P`...)
	b = strconv.AppendInt(b, int64(i), 10)
	b = append(b, `","type":"european","underlying":"SEED","right":"put","strike":40,"expiry":"`...)
	b = sampleValuationDate.AddDate(0, 0, 365).AppendFormat(b, time.DateOnly)
	return append(b, `"}`...)
}

// sampleOptionTerms appends the fields every equity option has and returns the
// spot of its underlying and its expiry.
func sampleOptionTerms(b []byte, typ, id string, right string, rng *rand.Rand) ([]byte, float64, time.Time) {
	u := sampleSpots[rng.IntN(len(sampleSpots))]
	if right == "" {
		right = [2]string{"call", "put"}[rng.IntN(2)]
	}
	expiry := sampleValuationDate.AddDate(0, 0, 30+rng.IntN(5*365))
	b = append(b, `{"id":"`...)
	b = append(b, id...)
	b = append(b, `","type":"`...)
	b = append(b, typ...)
	b = append(b, `","underlying":"`...)
	b = append(b, u.name...)
	b = append(b, `","right":"`...)
	b = append(b, right...)
	b = append(b, `","strike":`...)
	b = appendSampleNum(b, u.spot*(0.7+0.6*rng.Float64()))
	b = append(b, `,"expiry":"`...)
	b = expiry.AppendFormat(b, time.DateOnly)
	b = append(b, '"')
	return b, u.spot, expiry
}

func sampleOptionGen(typ, prefix, right string) sampleGen {
	return func(b []byte, i int, rng *rand.Rand) []byte {
		b, _, _ = sampleOptionTerms(b, typ, prefix+strconv.Itoa(i), right, rng)
		return append(b, '}')
	}
}

func sampleBarrier(b []byte, i int, rng *rand.Rand) []byte {
	b, spot, _ := sampleOptionTerms(b, "barrier", "B"+strconv.Itoa(i), "", rng)
	kind := [4]string{"downIn", "downOut", "upIn", "upOut"}[rng.IntN(4)]
	level := spot * (0.6 + 0.3*rng.Float64())
	if kind[0] == 'u' {
		level = spot * (1.1 + 0.3*rng.Float64())
	}
	b = append(b, `,"barrierType":"`...)
	b = append(b, kind...)
	b = append(b, `","barrier":`...)
	b = appendSampleNum(b, level)
	b = append(b, `,"rebate":`...)
	b = appendSampleNum(b, float64(rng.IntN(4)))
	return append(b, '}')
}

func sampleAsianGen(averaging, prefix string) sampleGen {
	return func(b []byte, i int, rng *rand.Rand) []byte {
		b, _, expiry := sampleOptionTerms(b, "asian", prefix+strconv.Itoa(i), "", rng)
		b = append(b, `,"averaging":"`...)
		b = append(b, averaging...)
		b = append(b, `","fixings":[`...)
		const n = 12
		days := expiry.Sub(sampleValuationDate).Hours() / 24
		for k := 1; k <= n; k++ {
			if k > 1 {
				b = append(b, ',')
			}
			d := sampleValuationDate.AddDate(0, 0, int(days*float64(k)/n))
			b = append(b, '"')
			b = d.AppendFormat(b, time.DateOnly)
			b = append(b, '"')
		}
		if averaging == "arithmetic" {
			b = append(b, `],"paths":10000}`...)
			return b
		}
		return append(b, "]}"...)
	}
}

func sampleFRA(b []byte, i int, rng *rand.Rand) []byte {
	start := sampleValuationDate.AddDate(0, 1+rng.IntN(24), 0)
	end := start.AddDate(0, [3]int{3, 6, 12}[rng.IntN(3)], 0)
	b = append(b, `{"id":"F`...)
	b = strconv.AppendInt(b, int64(i), 10)
	b = append(b, `","type":"fra","curve":"`...)
	b = append(b, [2]string{"USD", "EUR"}[rng.IntN(2)]...)
	b = append(b, `","notional":`...)
	b = appendSampleNum(b, float64(1+rng.IntN(10))*1e6)
	b = append(b, `,"rate":`...)
	b = appendSampleNum(b, 0.02+0.03*rng.Float64())
	b = append(b, `,"start":"`...)
	b = start.AppendFormat(b, time.DateOnly)
	b = append(b, `","end":"`...)
	b = end.AppendFormat(b, time.DateOnly)
	b = append(b, `","position":"`...)
	b = append(b, [2]string{"long", "short"}[rng.IntN(2)]...)
	return append(b, `"}`...)
}

func sampleSwap(b []byte, i int, rng *rand.Rand) []byte {
	start := sampleValuationDate.AddDate(0, 0, 2)
	b = append(b, `{"id":"S`...)
	b = strconv.AppendInt(b, int64(i), 10)
	b = append(b, `","type":"swap","curve":"`...)
	b = append(b, [2]string{"USD", "EUR"}[rng.IntN(2)]...)
	b = append(b, `","notional":`...)
	b = appendSampleNum(b, float64(1+rng.IntN(10))*1e6)
	b = append(b, `,"fixedRate":`...)
	b = appendSampleNum(b, 0.02+0.03*rng.Float64())
	b = append(b, `,"start":"`...)
	b = start.AppendFormat(b, time.DateOnly)
	b = append(b, `","maturity":"`...)
	b = start.AddDate(1+rng.IntN(10), 0, 0).AppendFormat(b, time.DateOnly)
	b = append(b, `","side":"`...)
	b = append(b, [2]string{"payFixed", "receiveFixed"}[rng.IntN(2)]...)
	return append(b, `"}`...)
}

func sampleBond(b []byte, i int, rng *rand.Rand) []byte {
	issue := sampleValuationDate.AddDate(-rng.IntN(5), -rng.IntN(12), 0)
	b = append(b, `{"id":"BD`...)
	b = strconv.AppendInt(b, int64(i), 10)
	b = append(b, `","type":"bond","curve":"`...)
	b = append(b, [2]string{"USD", "EUR"}[rng.IntN(2)]...)
	b = append(b, `","coupon":`...)
	b = appendSampleNum(b, float64(rng.IntN(24))*0.0025)
	b = append(b, `,"issue":"`...)
	b = issue.AppendFormat(b, time.DateOnly)
	b = append(b, `","maturity":"`...)
	b = issue.AddDate(6+rng.IntN(25), 0, 0).AppendFormat(b, time.DateOnly)
	return append(b, `"}`...)
}

// sampleSwaption appends a European swaption on a swap of 1 to 10 years
// that starts at its expiry, 1 to 5 years away, with a lognormal vol.
func sampleSwaption(b []byte, i int, rng *rand.Rand) []byte {
	expiry := sampleValuationDate.AddDate(1+rng.IntN(5), 0, 0)
	b = append(b, `{"id":"SW`...)
	b = strconv.AppendInt(b, int64(i), 10)
	b = append(b, `","type":"swaption","curve":"`...)
	b = append(b, [2]string{"USD", "EUR"}[rng.IntN(2)]...)
	b = append(b, `","notional":`...)
	b = appendSampleNum(b, float64(1+rng.IntN(10))*1e6)
	b = append(b, `,"strike":`...)
	b = appendSampleNum(b, 0.02+0.03*rng.Float64())
	b = append(b, `,"expiry":"`...)
	b = expiry.AppendFormat(b, time.DateOnly)
	b = append(b, `","maturity":"`...)
	b = expiry.AddDate(1+rng.IntN(10), 0, 0).AppendFormat(b, time.DateOnly)
	b = append(b, `","side":"`...)
	b = append(b, [2]string{"payer", "receiver"}[rng.IntN(2)]...)
	b = append(b, `","vol":`...)
	b = appendSampleNum(b, 0.15+0.2*rng.Float64())
	return append(b, '}')
}

// sampleCapFloor appends a cap or a floor of 1 to 10 years starting 1 to
// 12 months away, with a lognormal vol.
func sampleCapFloor(b []byte, i int, rng *rand.Rand) []byte {
	start := sampleValuationDate.AddDate(0, 1+rng.IntN(12), 0)
	b = append(b, `{"id":"CF`...)
	b = strconv.AppendInt(b, int64(i), 10)
	b = append(b, `","type":"capfloor","capType":"`...)
	b = append(b, [2]string{"cap", "floor"}[rng.IntN(2)]...)
	b = append(b, `","curve":"`...)
	b = append(b, [2]string{"USD", "EUR"}[rng.IntN(2)]...)
	b = append(b, `","notional":`...)
	b = appendSampleNum(b, float64(1+rng.IntN(10))*1e6)
	b = append(b, `,"strike":`...)
	b = appendSampleNum(b, 0.02+0.03*rng.Float64())
	b = append(b, `,"start":"`...)
	b = start.AppendFormat(b, time.DateOnly)
	b = append(b, `","maturity":"`...)
	b = start.AddDate(1+rng.IntN(10), 0, 0).AppendFormat(b, time.DateOnly)
	b = append(b, `","vol":`...)
	b = appendSampleNum(b, 0.15+0.2*rng.Float64())
	return append(b, '}')
}

// appendSampleNum appends v rounded to 6 decimals.
func appendSampleNum(b []byte, v float64) []byte {
	return strconv.AppendFloat(b, math.Round(v*1e6)/1e6, 'f', -1, 64)
}
