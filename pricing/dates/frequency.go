package dates

import "fmt"

// Frequency is how often a leg pays: the number of periods per year. The
// zero value is invalid.
type Frequency uint8

// The coupon frequencies; each value is its number of periods per year.
const (
	Annual     Frequency = 1
	Semiannual Frequency = 2
	Quarterly  Frequency = 4
	Monthly    Frequency = 12
)

var frequencyNames = []string{"", "annual", "semiannual", "quarterly", "monthly"}
var frequencyValues = []Frequency{0, Annual, Semiannual, Quarterly, Monthly}

// FrequencyNames lists the wire names of the frequencies.
func FrequencyNames() []string { return append([]string(nil), frequencyNames[1:]...) }

// ParseFrequency returns the frequency whose wire name is s: annual,
// semiannual, quarterly or monthly. An unknown name is an *UnknownNameError.
func ParseFrequency(s string) (Frequency, error) {
	i, err := parseName("frequency", s, frequencyNames)
	return frequencyValues[i], err
}

// Valid reports whether f is one of the defined frequencies.
func (f Frequency) Valid() bool {
	return f == Annual || f == Semiannual || f == Quarterly || f == Monthly
}

// PerYear returns the number of periods per year, 0 for an invalid f.
func (f Frequency) PerYear() int {
	if !f.Valid() {
		return 0
	}
	return int(f)
}

// Months returns the length of one period in months, 0 for an invalid f.
func (f Frequency) Months() int {
	if !f.Valid() {
		return 0
	}
	return 12 / int(f)
}

// String returns f's wire name.
func (f Frequency) String() string {
	for i, v := range frequencyValues {
		if i > 0 && v == f {
			return frequencyNames[i]
		}
	}
	return fmt.Sprintf("invalid frequency (%d)", uint8(f))
}
