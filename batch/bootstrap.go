package batch

import (
	"encoding/json"

	"github.com/pricefn/pricefn/pricing"
	"github.com/pricefn/pricefn/pricing/dates"
)

// buildBootstrapCurve builds a curve from deposits and par swap rates.
func buildBootstrapCurve(field string, raw json.RawMessage, asOf dates.Date) (pricing.YieldCurve, error) {
	return nil, batchErr(field, "bootstrapped curves are not supported yet")
}
