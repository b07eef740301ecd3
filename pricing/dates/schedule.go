package dates

import "fmt"

// BackwardSchedule returns the coupon dates of a leg from start to end
// paying with frequency f: QuantLib's Schedule with DateGeneration::Backward
// and end-of-month off. Unadjusted dates step back from end by whole
// periods (end minus k periods, the day clipped to month end), until the
// next would fall before start; start itself then opens a short front stub
// unless it adjusts onto the earliest generated date. Every date, end
// included, is then adjusted by cal and conv. Consecutive dates are accrual
// periods; the result has at least two dates.
//
// It returns an error when end is not after start, when an argument is
// invalid, or when the adjusted schedule collapses to a single date.
func BackwardSchedule(start, end Date, f Frequency, cal Calendar, conv Convention) ([]Date, error) {
	switch {
	case !f.Valid():
		return nil, fmt.Errorf("dates: schedule: invalid frequency %d", uint8(f))
	case !cal.Valid():
		return nil, fmt.Errorf("dates: schedule: invalid calendar %d", uint8(cal))
	case !conv.Valid():
		return nil, fmt.Errorf("dates: schedule: invalid convention %d", uint8(conv))
	case end <= start:
		return nil, fmt.Errorf("dates: schedule: end %s must be after start %s", end, start)
	}
	// ds holds the generated dates already adjusted: QuantLib compares
	// them adjusted while generating, and adjusts every one at the end.
	months := f.Months()
	n := int(end-start)*int(f)/365 + 3
	ds := make([]Date, 1, n)
	ds[0] = cal.Adjust(end, conv)
	for periods := 1; ; periods++ {
		temp := end.AddMonths(-periods * months)
		if temp < start {
			break
		}
		// Skip dates that would duplicate the last one once adjusted.
		if adj := cal.Adjust(temp, conv); adj != ds[len(ds)-1] {
			ds = append(ds, adj)
		}
	}
	if adj := cal.Adjust(start, conv); adj != ds[len(ds)-1] {
		ds = append(ds, adj)
	}
	for i, j := 0, len(ds)-1; i < j; i, j = i+1, j-1 {
		ds[i], ds[j] = ds[j], ds[i]
	}
	// QuantLib's final safety checks: drop a next-to-last date on or after
	// the end, and a second date on or before the start.
	if k := len(ds); k >= 2 && ds[k-2] >= ds[k-1] {
		ds[k-2] = ds[k-1]
		ds = ds[:k-1]
	}
	if len(ds) >= 2 && ds[1] <= ds[0] {
		ds = append(ds[:1], ds[2:]...)
	}
	if len(ds) < 2 {
		return nil, fmt.Errorf("dates: schedule from %s to %s collapses to the single date %s under %s %s", start, end, ds[0], cal, conv)
	}
	return ds, nil
}
