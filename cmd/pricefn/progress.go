package main

import (
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"
)

// progressLine writes submit's progress lines, each with the time since
// start: a line when it changes, and again after heartbeat without
// change, so that a long wait is seen to be alive.
type progressLine struct {
	w         io.Writer
	start     time.Time
	heartbeat time.Duration

	last      string
	printed   time.Time // when a line was last written
	changedAt time.Time // when last changed
}

// show writes line if it differs from the last one, or repeats it as
// "still ..." when heartbeat has passed since the last line.
func (p *progressLine) show(line string) {
	line = printable(line) // it holds the engine's words
	now := time.Now()
	switch {
	case line != p.last:
		fmt.Fprintf(p.w, "[%s] %s\n", seconds(now.Sub(p.start)), line)
		p.last, p.changedAt = line, now
	case now.Sub(p.printed) >= p.heartbeat:
		fmt.Fprintf(p.w, "[%s] still %s (no change for %s)\n", seconds(now.Sub(p.start)), line, seconds(now.Sub(p.changedAt)))
	default:
		return
	}
	p.printed = now
}

// plural returns "1 chunk", "4 chunks", "0 chunks".
func plural(n int, one string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + one + "s"
}

// sizeText returns a byte count for people: "512 bytes", "14.2 KiB",
// "11.0 MiB".
func sizeText(n int) string {
	switch {
	case n < 1024:
		return plural(n, "byte")
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	default:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
}

// seconds returns d for people: "0.42s" under 10 s, "12.3s" under a
// minute, then "2m5s".
func seconds(d time.Duration) string {
	switch {
	case d < 0:
		d = 0
	case d >= time.Minute:
		return d.Round(time.Second).String()
	}
	if d < 10*time.Second {
		return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + "s"
	}
	return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
}

// secondsOf is seconds of a count of seconds, such as the status
// document's durationSeconds.
func secondsOf(s float64) string {
	return seconds(time.Duration(s * float64(time.Second)))
}

// lockedWriter is w shared by goroutines: each Write goes whole, alone.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}
