package probe

import (
	"context"
	"net/netip"
)

// DialTrace is told of every TCP connection leakwatch is about to open —
// discovery connects and every prober dial — with the endpoint dialed,
// after the scope check and before the connect. It must be fast and safe
// for concurrent use. Like net/http/httptrace it travels in a context, so
// a test can trace a whole scan or serve run without new plumbing:
// scope-proof tests assert that every traced endpoint was in scope.
type DialTrace func(netip.AddrPort)

type dialTraceKey struct{}

// WithDialTrace returns ctx carrying fn; dials under it are traced.
func WithDialTrace(ctx context.Context, fn DialTrace) context.Context {
	return context.WithValue(ctx, dialTraceKey{}, fn)
}

// TraceDial reports a dial of ap to ctx's DialTrace, if any. Every code
// path that opens a connection calls it right before connecting.
func TraceDial(ctx context.Context, ap netip.AddrPort) {
	if fn, ok := ctx.Value(dialTraceKey{}).(DialTrace); ok && fn != nil {
		fn(ap)
	}
}
