package batch

import (
	"errors"

	"github.com/pricefn/pricefn/pricing/dates"
)

var errRatesTODO = errors.New("rates trades are not supported yet")

func decodeFRA(raw []byte, asOf dates.Date) (priceable, error)  { return nil, errRatesTODO }
func decodeSwap(raw []byte, asOf dates.Date) (priceable, error) { return nil, errRatesTODO }
func decodeBond(raw []byte, asOf dates.Date) (priceable, error) { return nil, errRatesTODO }
