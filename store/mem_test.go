package store_test

import (
	"testing"

	"github.com/pricefn/pricefn/store"
	"github.com/pricefn/pricefn/store/storetest"
)

func TestMemConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, opt store.Options) store.Store {
		return store.NewMem(store.MemOptions{Options: opt})
	})
}
