package launch

import (
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/pricefn/pricefn/auth"
	"github.com/pricefn/pricefn/config"
	"github.com/pricefn/pricefn/functions/host"
)

// secretsRecheck is how often the tokens and event key files are checked
// for changes.
const secretsRecheck = time.Second

// NewGuard builds a process's guard from its security settings and says
// at startup what it leaves open: events unsigned without an event key
// file, the API open to anyone without a tokens file (a piece with an
// API: the pricer has none, and warned of it on every start).
func NewGuard(c config.Security, log zerolog.Logger, reg prometheus.Registerer) (*auth.Guard, error) {
	var keys *auth.Keys
	var tokens *auth.Tokens
	var err error
	if c.EventKeyFile != "" {
		keys, err = auth.LoadKeys(c.EventKeyFile, secretsRecheck, func(err error) {
			log.Error().Err(err).Msg("event key file changed but cannot be read: the keys in force stay")
		})
		if err != nil {
			return nil, err
		}
	} else {
		log.Warn().Msg("no event key (--event-key-file, $PRICEFN_EVENT_KEY_FILE): events are neither signed nor checked; anyone who reaches the event receivers can forge them")
	}
	if c.TokensFile != "" {
		tokens, err = auth.LoadTokens(c.TokensFile, secretsRecheck, func(err error) {
			log.Error().Err(err).Msg("tokens file changed but cannot be read: the tokens in force stay")
		})
		if err != nil {
			return nil, err
		}
	} else if !c.NoAPI {
		log.Warn().Msg("no tokens file (--tokens-file, $PRICEFN_TOKENS_FILE): the API is open to anyone who reaches it, as one tenant")
	}
	return auth.NewGuard(keys, tokens, log, reg), nil
}

// signer returns the Sign option of a sender for guard's keys.
func signer(g *auth.Guard) func(*event.Event) {
	if g == nil || g.Keys == nil {
		return nil
	}
	return g.Keys.Sign
}

var _ host.Guard = (*auth.Guard)(nil)
