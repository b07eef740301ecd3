package host

import (
	"context"

	"github.com/pricefn/pricefn/events"
)

// DefaultTenant is the tenant of a request no token names: every request
// of an engine that runs without a tokens file.
const DefaultTenant = events.DefaultTenant

type tenantKey struct{}

// WithTenant returns ctx carrying the tenant a request speaks for.
func WithTenant(ctx context.Context, tenant string) context.Context {
	return context.WithValue(ctx, tenantKey{}, tenant)
}

// TenantOf returns the tenant of ctx, DefaultTenant when none is set.
func TenantOf(ctx context.Context) string {
	if t, ok := ctx.Value(tenantKey{}).(string); ok && t != "" {
		return t
	}
	return DefaultTenant
}
