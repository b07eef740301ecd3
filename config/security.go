package config

import "flag"

// Security is where the credentials are: the tenants' bearer tokens and
// the keys that sign the pipeline's events, each a file (on Kubernetes a
// mounted Secret). Without them an engine is open: fine on a laptop, and
// said at startup.
type Security struct {
	// TokensFile holds "TOKEN TENANT [SCOPES]" lines (package auth).
	TokensFile string
	// EventKeyFile holds the event signing key, and the key being
	// rotated, one a line.
	EventKeyFile string
	// NoAPI says the piece serves no API, only events (the pricer): it
	// reads no tokens file, and is not open for want of one.
	NoAPI bool
}

func (c *Security) flags(fs *flag.FlagSet, env Env) {
	if !c.NoAPI {
		fs.StringVar(&c.TokensFile, "tokens-file", env("PRICEFN_TOKENS_FILE"), "file of bearer tokens, one \"TOKEN TENANT [submit,read,sign]\" a line; none leaves the API open ($PRICEFN_TOKENS_FILE)")
	}
	fs.StringVar(&c.EventKeyFile, "event-key-file", env("PRICEFN_EVENT_KEY_FILE"), "file of the key that signs the pipeline's events (and the key being rotated, on a second line); none leaves events unsigned ($PRICEFN_EVENT_KEY_FILE)")
}
