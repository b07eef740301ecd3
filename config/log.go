package config

import (
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/rs/zerolog"
)

// Log is the logging setup: zerolog, human-readable on a terminal and JSON
// otherwise.
type Log struct {
	// Format is "auto" (console on a terminal, else JSON), "console" or "json".
	Format string
	// Level is a zerolog level name: debug, info, warn, error.
	Level string
}

// Flags defines --log-format and --log-level on fs.
func (l *Log) Flags(fs *flag.FlagSet, env Env) {
	format, level := env("PRICEFN_LOG_FORMAT"), env("PRICEFN_LOG_LEVEL")
	if format == "" {
		format = "auto"
	}
	if level == "" {
		level = "info"
	}
	fs.StringVar(&l.Format, "log-format", format, "auto, console or json ($PRICEFN_LOG_FORMAT)")
	fs.StringVar(&l.Level, "log-level", level, "debug, info, warn or error ($PRICEFN_LOG_LEVEL)")
}

// Check validates the format and level.
func (l *Log) Check() error {
	switch l.Format {
	case "", "auto", "console", "json":
	default:
		return fmt.Errorf("config: --log-format %q ($PRICEFN_LOG_FORMAT): want auto, console or json", l.Format)
	}
	if l.Level != "" {
		if _, err := zerolog.ParseLevel(l.Level); err != nil {
			// zerolog's own error says it defaults to no level: this is
			// an error, not a default.
			return fmt.Errorf("config: --log-level %q ($PRICEFN_LOG_LEVEL): want debug, info, warn or error", l.Level)
		}
	}
	return nil
}

// Logger returns a logger writing to w. With format auto, it writes for a
// human when w is a terminal and JSON otherwise.
func (l Log) Logger(w io.Writer) zerolog.Logger {
	lvl, err := zerolog.ParseLevel(l.Level)
	if err != nil || l.Level == "" {
		lvl = zerolog.InfoLevel
	}
	if term := isTerminal(w); l.Format == "console" || ((l.Format == "" || l.Format == "auto") && term) {
		// Colours only on a terminal: in a file or a pipe they are
		// escape sequences in the text.
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.TimeOnly, NoColor: !term}
	}
	return zerolog.New(w).Level(lvl).With().Timestamp().Logger()
}

// isTerminal reports whether w is a character device, such as a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
