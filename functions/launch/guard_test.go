package launch_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/pricefn/pricefn/config"
	"github.com/pricefn/pricefn/functions/launch"
)

// TestNewGuardWarnsOfAnOpenAPIWhereThereIsOne: a piece with an API and no
// tokens file is warned of at startup as open; the pricer, which serves
// events alone, is not (every pricer pod warned that its API was open).
func TestNewGuardWarnsOfAnOpenAPIWhereThereIsOne(t *testing.T) {
	for _, c := range []struct {
		name string
		sec  config.Security
		want bool
	}{
		{"ingress", config.Security{}, true},
		{"pricer", config.Security{NoAPI: true}, false},
	} {
		var logs bytes.Buffer
		if _, err := launch.NewGuard(c.sec, zerolog.New(&logs), nil); err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(logs.String(), "the API is open"); got != c.want {
			t.Errorf("%s: warned of an open API %v, want %v: %s", c.name, got, c.want, logs.String())
		}
	}
}
