package scope

import (
	"net/netip"
	"strings"
	"testing"
)

// Documentation ranges (192.0.2.0/24, 2001:db8::/32) appear here only as
// parser inputs; nothing in this package dials.

func TestParseValid(t *testing.T) {
	tests := []struct {
		in          string
		kind        Kind
		first, last string
		host        string
		port        int
		canon       string
	}{
		{"127.0.0.5", KindAddr, "127.0.0.5", "127.0.0.5", "", 0, "127.0.0.5"},
		{" 127.0.0.5 ", KindAddr, "127.0.0.5", "127.0.0.5", "", 0, "127.0.0.5"},
		{"2001:db8::1", KindAddr, "2001:db8::1", "2001:db8::1", "", 0, "2001:db8::1"},
		{"[2001:db8::1]", KindAddr, "2001:db8::1", "2001:db8::1", "", 0, "2001:db8::1"},
		{"::ffff:127.0.0.1", KindAddr, "127.0.0.1", "127.0.0.1", "", 0, "127.0.0.1"},
		{"192.0.2.0/24", KindPrefix, "192.0.2.0", "192.0.2.255", "", 0, "192.0.2.0/24"},
		{"192.0.2.77/24", KindPrefix, "192.0.2.0", "192.0.2.255", "", 0, "192.0.2.0/24"},
		{"192.0.2.7/32", KindPrefix, "192.0.2.7", "192.0.2.7", "", 0, "192.0.2.7/32"},
		{"0.0.0.0/0", KindPrefix, "0.0.0.0", "255.255.255.255", "", 0, "0.0.0.0/0"},
		{"::ffff:192.0.2.0/120", KindPrefix, "192.0.2.0", "192.0.2.255", "", 0, "192.0.2.0/24"},
		{"2001:db8::/120", KindPrefix, "2001:db8::", "2001:db8::ff", "", 0, "2001:db8::/120"},
		{"2001:db8::/32", KindPrefix, "2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "", 0, "2001:db8::/32"},
		{"127.0.0.1-127.0.0.50", KindRange, "127.0.0.1", "127.0.0.50", "", 0, "127.0.0.1-127.0.0.50"},
		{"127.0.0.1-50", KindRange, "127.0.0.1", "127.0.0.50", "", 0, "127.0.0.1-127.0.0.50"},
		{"127.0.0.9-9", KindRange, "127.0.0.9", "127.0.0.9", "", 0, "127.0.0.9-127.0.0.9"},
		{"127.0.0.250-127.0.1.5", KindRange, "127.0.0.250", "127.0.1.5", "", 0, "127.0.0.250-127.0.1.5"},
		{"2001:db8::1-2001:db8::ff", KindRange, "2001:db8::1", "2001:db8::ff", "", 0, "2001:db8::1-2001:db8::ff"},
		{"db.example.internal", KindHost, "", "", "db.example.internal", 0, "db.example.internal"},
		{"DB.Example.Internal.", KindHost, "", "", "db.example.internal", 0, "db.example.internal"},
		{"localhost", KindHost, "", "", "localhost", 0, "localhost"},
		{"es-01.corp", KindHost, "", "", "es-01.corp", 0, "es-01.corp"},
		{"_srv.corp", KindHost, "", "", "_srv.corp", 0, "_srv.corp"},
		{"127.0.0.5:9200", KindAddr, "127.0.0.5", "127.0.0.5", "", 9200, "127.0.0.5:9200"},
		{"[2001:db8::1]:9200", KindAddr, "2001:db8::1", "2001:db8::1", "", 9200, "[2001:db8::1]:9200"},
		{"db.example.internal:5432", KindHost, "", "", "db.example.internal", 5432, "db.example.internal:5432"},
		{"127.0.0.5:65535", KindAddr, "127.0.0.5", "127.0.0.5", "", 65535, "127.0.0.5:65535"},
		{"127.0.0.5:1", KindAddr, "127.0.0.5", "127.0.0.5", "", 1, "127.0.0.5:1"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			sp, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if sp.Kind != tt.kind || sp.Hostname != tt.host || sp.Port != tt.port {
				t.Fatalf("Parse(%q) = %+v", tt.in, sp)
			}
			if tt.first != "" {
				if sp.First != netip.MustParseAddr(tt.first) || sp.Last != netip.MustParseAddr(tt.last) {
					t.Fatalf("Parse(%q) bounds %s-%s, want %s-%s", tt.in, sp.First, sp.Last, tt.first, tt.last)
				}
			}
			if got := sp.String(); got != tt.canon {
				t.Fatalf("String() = %q, want %q", got, tt.canon)
			}
			back, err := Parse(sp.String())
			if err != nil || back != sp {
				t.Fatalf("round trip %q: %+v, %v", sp.String(), back, err)
			}
		})
	}
}

func TestParseInvalid(t *testing.T) {
	tests := []struct{ in, want string }{
		{"300.1.2.3", `invalid target "300.1.2.3": not an IP address: IPv4 field has value >255`},
		{"1.2.3", `invalid target "1.2.3": not an IP address: IPv4 address too short`},
		{"1.2.3.4.5", `invalid target "1.2.3.4.5": not an IP address: IPv4 address too long`},
		{"", `invalid target "": empty`},
		{"-", `invalid target "-": "-" (stdin) is only allowed as a whole argument`},
		{"a b", `invalid target "a b": contains a space or comma; give one target per argument`},
		{"http://127.0.0.1:9200", `invalid target "http://127.0.0.1:9200": a URL is not a target; give host, host:port, an address, CIDR or range`},
		{"127.0.0.50-1", `invalid target "127.0.0.50-1": range start 127.0.0.50 is after its end 127.0.0.1`},
		{"127.0.0.1-126.0.0.1", `invalid target "127.0.0.1-126.0.0.1": range start 127.0.0.1 is after its end 126.0.0.1`},
		{"127.0.0.1-300", `invalid target "127.0.0.1-300": range end "300" is not an octet (0-255)`},
		{"127.0.0.1-::1", `invalid target "127.0.0.1-::1": range mixes IPv4 and IPv6`},
		{"127.0.0.1-127.0.0.5:80", `invalid target "127.0.0.1-127.0.0.5:80": a port is only allowed on a single address or hostname; use --ports for blocks and ranges`},
		{"192.0.2.0/33", `invalid target "192.0.2.0/33": prefix length /33 is too long for IPv4`},
		{"2001:db8::/129", `invalid target "2001:db8::/129": prefix length /129 is too long for IPv6`},
		{"192.0.2.0/", `invalid target "192.0.2.0/": bad prefix length ""`},
		{"192.0.2.0/24:80", `invalid target "192.0.2.0/24:80": a port is only allowed on a single address or hostname; use --ports for blocks and ranges`},
		{"::ffff:0.0.0.0/90", `invalid target "::ffff:0.0.0.0/90": an IPv4-mapped prefix must be /96 or longer`},
		{"127.0.0.1:0", `invalid target "127.0.0.1:0": port 0 out of range 1-65535`},
		{"127.0.0.1:65536", `invalid target "127.0.0.1:65536": port 65536 out of range 1-65535`},
		{"127.0.0.1:", `invalid target "127.0.0.1:": missing port after ':'`},
		{":80", `invalid target ":80": missing host before port`},
		{"host:http", `invalid target "host:http": port "http" is not a number`},
		{"fe80::1%eth0", `invalid target "fe80::1%eth0": IPv6 zones are not supported`},
		{"[127.0.0.1]:80", `invalid target "[127.0.0.1]:80": brackets are only for IPv6 addresses`},
		{"[::1", `invalid target "[::1": missing ']'`},
		{"[::1]9200", `invalid target "[::1]9200": unexpected "9200" after ']'`},
		{"bad_host!", `invalid target "bad_host!": hostname has invalid character '!'`},
		{"a..b", `invalid target "a..b": hostname has an empty label`},
		{"-db.corp", `invalid target "-db.corp": hostname label "-db" starts or ends with '-'`},
		{"db.123", `invalid target "db.123": not an IP address and not a hostname (numeric top-level label)`},
		{strings.Repeat("a", 64) + ".corp", `invalid target "` + strings.Repeat("a", 64) + `.corp": hostname label longer than 63 characters`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			sp, err := Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %+v, want error", tt.in, sp)
			}
			if err.Error() != tt.want {
				t.Fatalf("Parse(%q):\n got  %s\n want %s", tt.in, err, tt.want)
			}
		})
	}
}

var parseSeeds = []string{
	"127.0.0.5", "2001:db8::1", "[2001:db8::1]:9200", "192.0.2.0/24", "2001:db8::/120",
	"127.0.0.1-127.0.0.50", "127.0.0.1-50", "db.example.internal:5432", "localhost",
	"::ffff:127.0.0.1", "::ffff:192.0.2.0/120", "300.1.2.3", "a..b", "[::1]x", "fe80::1%eth0",
	"127.0.0.1-::1", "1-2", "-", ":", "[]", "[]:1", "::/0", "0.0.0.0/0", "x:99999",
}

func FuzzParse(f *testing.F) {
	for _, s := range parseSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		sp, err := Parse(in)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "invalid target ") {
				t.Fatalf("error not user-facing: %v", err)
			}
			return
		}
		checkSpec(t, in, sp)
		back, err := Parse(sp.String())
		if err != nil || back != sp {
			t.Fatalf("Parse(%q) = %+v; round trip via %q gives %+v, %v", in, sp, sp.String(), back, err)
		}
	})
}

// checkSpec asserts the invariants of a parsed spec.
func checkSpec(t *testing.T, in string, sp Spec) {
	t.Helper()
	if sp.Port < 0 || sp.Port > 65535 {
		t.Fatalf("Parse(%q): port %d", in, sp.Port)
	}
	switch sp.Kind {
	case KindAddr, KindPrefix, KindRange:
		if !sp.First.IsValid() || !sp.Last.IsValid() || sp.Last.Less(sp.First) ||
			sp.First.Is4() != sp.Last.Is4() || sp.First.Is4In6() || sp.First.Zone() != "" {
			t.Fatalf("Parse(%q): bad bounds %+v", in, sp)
		}
		if sp.Kind != KindAddr && sp.Port != 0 {
			t.Fatalf("Parse(%q): port on a block %+v", in, sp)
		}
		if sp.Kind == KindPrefix && (sp.Prefix.Addr() != sp.First || !sp.Prefix.Contains(sp.Last)) {
			t.Fatalf("Parse(%q): prefix %s vs %s-%s", in, sp.Prefix, sp.First, sp.Last)
		}
	case KindHost:
		if sp.Hostname == "" || sp.Hostname != strings.ToLower(sp.Hostname) {
			t.Fatalf("Parse(%q): hostname %q", in, sp.Hostname)
		}
	default:
		t.Fatalf("Parse(%q): kind %d", in, sp.Kind)
	}
}
