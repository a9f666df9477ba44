package scope

import (
	"errors"
	"strings"
	"testing"
)

func TestParseLine(t *testing.T) {
	tests := []struct {
		line string
		ok   bool
		want string // canonical spec
		host string // Spec.Hostname
	}{
		{"", false, "", ""},
		{"   \t", false, "", ""},
		{"# masscan output", false, "", ""},
		{"#masscan", false, "", ""},
		{"127.0.0.5:9200", true, "127.0.0.5:9200", ""},
		{"  127.0.0.0/30  ", true, "127.0.0.0/30", ""},
		{"db.example.internal:5432\r", true, "db.example.internal:5432", "db.example.internal"},
		{"open tcp 9200 127.0.0.5 1700000000", true, "127.0.0.5:9200", ""},
		{"open tcp 27017 2001:db8::5 1700000000", true, "[2001:db8::5]:27017", ""},
		{"closed tcp 9200 127.0.0.5 1700000000", false, "", ""},
		{"open udp 53 127.0.0.5 1700000000", false, "", ""},
		{"banner tcp 6379 127.0.0.5 1700000000 unknown -ERR", false, "", ""},
		{`{"host":"127.0.0.5","ip":"127.0.0.5","port":9200}`, true, "127.0.0.5:9200", ""},
		{`{"host":"es.example.internal","ip":"127.0.0.6","timestamp":"2024-01-01T00:00:00Z","port":9201,"protocol":"tcp","tls":false}`, true, "127.0.0.6:9201", "es.example.internal"},
		{`{"host":"es.example.internal","port":9200}`, true, "es.example.internal:9200", "es.example.internal"},
		{`{"ip":"127.0.0.7","port":"6379"}`, true, "127.0.0.7:6379", ""},
		{`{"ip":"127.0.0.8","port":{"Port":11211,"Protocol":0,"TLS":false}}`, true, "127.0.0.8:11211", ""},
		{`{"ip":"127.0.0.9"}`, true, "127.0.0.9", ""},
		{`{"ip":"127.0.0.9","port":53,"protocol":"udp"}`, false, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			sp, ok, err := ParseLine(tt.line)
			if err != nil {
				t.Fatalf("ParseLine(%q): %v", tt.line, err)
			}
			if ok != tt.ok {
				t.Fatalf("ParseLine(%q) ok = %v", tt.line, ok)
			}
			if !ok {
				return
			}
			if sp.String() != tt.want || sp.Hostname != tt.host {
				t.Fatalf("ParseLine(%q) = %q (host %q), want %q (host %q)", tt.line, sp, sp.Hostname, tt.want, tt.host)
			}
		})
	}
}

func TestParseLineInvalid(t *testing.T) {
	tests := []struct{ line, want string }{
		{"300.1.2.3", `invalid target "300.1.2.3": not an IP address: IPv4 field has value >255`},
		{"open tcp 99999 127.0.0.5 1700000000", `invalid target "open tcp 99999 127.0.0.5 1700000000": masscan line: port 99999 out of range 1-65535`},
		{"open tcp 80 300.0.0.1 1700000000", `invalid target "open tcp 80 300.0.0.1 1700000000": masscan line: not an IP address: IPv4 field has value >255`},
		{`{"ip":"127.0.0.5","port":9200`, `invalid target "{\"ip\":\"127.0.0.5\",\"port\":9200": not a naabu JSON line: unexpected EOF`},
		{`{"port":9200}`, `invalid target "{\"port\":9200}": naabu line has neither ip nor host`},
		{`{"ip":"localhost","port":9200}`, `invalid target "{\"ip\":\"localhost\",\"port\":9200}": naabu line: ip: not an IP address`},
		{`{"ip":"127.0.0.5","port":0}`, `invalid target "{\"ip\":\"127.0.0.5\",\"port\":0}": naabu line: port 0 out of range 1-65535`},
		{`{"ip":"127.0.0.5","port":true}`, `invalid target "{\"ip\":\"127.0.0.5\",\"port\":true}": naabu line: port "true" is not a number`},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			_, _, err := ParseLine(tt.line)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("ParseLine(%q):\n got  %v\n want %s", tt.line, err, tt.want)
			}
		})
	}
}

func TestParseListLineNumbers(t *testing.T) {
	in := "# targets\n127.0.0.1\n\nopen tcp 9200 127.0.0.5 1700000000\n300.1.2.3\n"
	var got []string
	err := ParseList(strings.NewReader(in), func(sp Spec) error {
		got = append(got, sp.String())
		return nil
	})
	want := `stdin line 5: invalid target "300.1.2.3": not an IP address: IPv4 field has value >255`
	if err == nil || err.Error() != want {
		t.Fatalf("ParseList: %v, want %s", err, want)
	}
	if strings.Join(got, " ") != "127.0.0.1 127.0.0.5:9200" {
		t.Fatalf("ParseList read %v", got)
	}
	var te *Error
	if !errors.As(err, &te) || te.Line != 5 {
		t.Fatalf("error %T %+v", err, te)
	}
}

func TestParseListLongLine(t *testing.T) {
	in := "127.0.0.1\n" + strings.Repeat("a", MaxLineBytes+10) + "\n"
	err := ParseList(strings.NewReader(in), func(Spec) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "stdin line 2: longer than") {
		t.Fatalf("ParseList: %v", err)
	}
}

func FuzzParseLine(f *testing.F) {
	for _, s := range parseSeeds {
		f.Add(s)
	}
	for _, s := range []string{
		"", "# c", "open tcp 9200 127.0.0.5 1700000000", "open tcp 1 ::1 0", "closed tcp 9200 127.0.0.5 1",
		`{"host":"es.example.internal","ip":"127.0.0.6","port":9201,"protocol":"tcp"}`,
		`{"ip":"127.0.0.8","port":{"Port":11211}}`, `{"ip":"127.0.0.8","port":{"Port":{"Port":1}}}`,
		`{"host":"x","port":"80"}`, `{}`, `{"ip":1}`, `{"port":1e9}`, "open tcp", "open tcp x y z",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		sp, ok, err := ParseLine(line)
		if err != nil {
			if ok || !strings.Contains(err.Error(), "invalid target ") {
				t.Fatalf("ParseLine(%q): ok=%v err=%v", line, ok, err)
			}
			return
		}
		if !ok {
			return
		}
		checkSpec(t, line, sp)
		if sp.Kind == KindAddr && sp.Hostname != "" {
			if _, err := parseHostname(sp.Hostname); err != nil {
				t.Fatalf("ParseLine(%q): hostname %q: %v", line, sp.Hostname, err)
			}
		}
	})
}
