package dates

// Convention is a business-day convention: how a date that is not a
// business day of a calendar moves to one. The zero value is invalid.
type Convention uint8

// The business-day conventions, after QuantLib's BusinessDayConvention.
const (
	// Unadjusted leaves every date where it is ("unadjusted").
	Unadjusted Convention = iota + 1
	// Following moves to the next business day ("following").
	Following
	// ModifiedFollowing moves to the next business day unless that is in
	// the next month, and then to the previous one ("modifiedFollowing").
	ModifiedFollowing
	// Preceding moves to the previous business day ("preceding").
	Preceding
)

var conventionNames = []string{"", "unadjusted", "following", "modifiedFollowing", "preceding"}

// ConventionNames lists the wire names of the conventions.
func ConventionNames() []string { return append([]string(nil), conventionNames[1:]...) }

// ParseConvention returns the convention whose wire name is s. An unknown
// name is an *UnknownNameError listing the valid ones.
func ParseConvention(s string) (Convention, error) {
	i, err := parseName("convention", s, conventionNames)
	return Convention(i), err
}

// String returns c's wire name.
func (c Convention) String() string { return nameOf("convention", int(c), conventionNames) }

// Valid reports whether c is one of the defined conventions.
func (c Convention) Valid() bool { return c >= Unadjusted && c <= Preceding }
