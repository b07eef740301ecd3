package events_test

import (
	"testing"

	"github.com/pricefn/pricefn/events"
)

func TestRetryable(t *testing.T) {
	for code, want := range map[int]bool{
		200: false, 202: false, 301: false, 400: false, 401: false, 403: false, 410: false, 422: false,
		404: true, 408: true, 409: true, 429: true, 500: true, 502: true, 503: true, 504: true,
	} {
		if got := events.Retryable(code); got != want {
			t.Errorf("Retryable(%d) = %v, want %v", code, got, want)
		}
	}
}
