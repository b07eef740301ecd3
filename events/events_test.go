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

func TestChunkIndex(t *testing.T) {
	tests := []struct {
		typ, id string
		want    int
		ok      bool
	}{
		{events.TypeChunkRequested, "b1/chunk/0", 0, true},
		{events.TypeChunkRequested, "b1/chunk/41", 41, true},
		{events.TypeChunkRequested, "b1@acme/a2/chunk/7", 7, true},
		{events.TypeChunkPriced, "b1/chunk/3/priced", 3, true},
		{events.TypeChunkPriced, "b1@acme/a12/chunk/5/priced", 5, true},
		{events.TypeChunkPriced, "b1/chunk/3", 0, false},           // not a reply's id
		{events.TypeChunkRequested, "b1/chunk/3/priced", 0, false}, // a reply's id on a request
		{events.TypeChunkRequested, "b1/chunk/-1", 0, false},
		{events.TypeChunkRequested, "b1/chunk/+1", 0, false},
		{events.TypeChunkRequested, "b1/chunk/01", 0, false},
		{events.TypeChunkRequested, "b1/chunk/", 0, false},
		{events.TypeChunkRequested, "b1", 0, false},
		{events.TypeBatchAccepted, "b1/chunk/3", 0, false}, // not a chunk's event
	}
	for _, tt := range tests {
		e, err := events.New(tt.typ, "/test", tt.id, "b1", map[string]int{})
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := events.ChunkIndex(e); got != tt.want || ok != tt.ok {
			t.Errorf("ChunkIndex(%s %s) = %d, %v; want %d, %v", tt.typ, tt.id, got, ok, tt.want, tt.ok)
		}
	}
}
