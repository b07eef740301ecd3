// Package engine holds the pricing engines: one type per method, each with
// a Price method that reads contract terms (package instrument) and market
// data (pricing.Market) and returns a pricing.Result. Engines hold only
// settings, never state between calls, so one value may price concurrently.
package engine
