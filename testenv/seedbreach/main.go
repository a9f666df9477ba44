// Command seedbreach loads the breach-shaped demo data into a search node on
// loopback: a customers index (user names, emails, camera models, connection
// times, JWT and opaque login tokens, WiFi SSIDs) and a products index with
// no personal data. For the demo and benchmarks only.
package main

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"time"

	"github.com/leakwatch/leakwatch/internal/testenv"
)

func main() {
	base := flag.String("url", "http://127.0.0.10:9200", "search node base URL (loopback only)")
	n := flag.Int("records", 100000, "customer records")
	flag.Parse()
	u, err := url.Parse(*base)
	if err != nil || u.Hostname() == "" || !isLoopback(u.Hostname()) {
		fmt.Fprintln(os.Stderr, "seedbreach: --url must be an http URL on a 127.x.y.z address")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	c := testenv.NewSearchClient(*base)
	start := time.Now()
	steps := []func() error{
		func() error { return c.CreateIndex(ctx, "customers", "") },
		func() error { return testenv.Bulk(ctx, c, "customers", testenv.Customers(2019, *n)) },
		func() error { return c.CreateIndex(ctx, "products", "") },
		func() error { return testenv.Bulk(ctx, c, "products", testenv.Products(7, 5000)) },
	}
	for _, s := range steps {
		if err := s(); err != nil {
			fmt.Fprintln(os.Stderr, "seedbreach:", err)
			os.Exit(1)
		}
	}
	fmt.Printf("seedbreach: %d customers + 5000 products in %s\n", *n, time.Since(start).Round(time.Millisecond))
}

func isLoopback(h string) bool {
	var a, b, c, d int
	if _, err := fmt.Sscanf(h, "%d.%d.%d.%d", &a, &b, &c, &d); err != nil {
		return false
	}
	return a == 127 && b >= 0 && b < 256 && c >= 0 && c < 256 && d > 0 && d < 256
}
