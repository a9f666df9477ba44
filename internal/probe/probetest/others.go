package probetest

import "testing"

// banners are the other services' banners (see the constants) that
// several probers' tests name.
var banners = map[string]string{
	"http":  HTTPBadRequest,
	"redis": RedisError,
	"ssh":   SSHBanner,
	"smtp":  SMTPBanner,
	"ftp":   FTPBanner,
	"mysql": MySQLGreeting,
}

// Banners are the named other services (http, redis, ssh, smtp, ftp,
// mysql), each a fixed banner, for Conformance.NotThis.
func Banners(tb testing.TB, names ...string) []Other {
	tb.Helper()
	others := make([]Other, 0, len(names))
	for _, n := range names {
		b, ok := banners[n]
		if !ok {
			tb.Fatalf("probetest: no banner called %q", n)
		}
		others = append(others, Other{Name: n, Banner: b})
	}
	return others
}
