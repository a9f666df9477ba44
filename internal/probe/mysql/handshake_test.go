package mysql

import (
	"bytes"
	"errors"
	"testing"
)

// packet frames a payload with sequence id 0.
func packet(payload []byte) []byte {
	n := len(payload)
	return append([]byte{byte(n), byte(n >> 8), byte(n >> 16), 0}, payload...)
}

// mariadbGreeting is shaped like MariaDB 10.11's handshake.
var mariadbGreeting = packet([]byte("\x0a5.5.5-10.11.19-MariaDB-0+deb12u1\x00" +
	"\x03\x00\x00\x00" + "abcdefgh" + "\x00" + "\xfe\xf7" + "\x2d" + "\x02\x00" + "\xff\x81" + "\x15" +
	"\x00\x00\x00\x00\x00\x00" + "\x1d\x00\x00\x00" + "ijklmnopqrst\x00" + "mysql_native_password\x00"))

// mysql8Greeting is shaped like MySQL 8.0's handshake.
var mysql8Greeting = packet([]byte("\x0a8.0.36\x00" + "\x08\x00\x00\x00" + "abcdefgh" + "\x00" + "\xff\xff" + "\xff" +
	"\x02\x00" + "\xff\xdf" + "\x15" + "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" + "ijklmnopqrst\x00" + "caching_sha2_password\x00"))

var hostDenied = packet([]byte("\xff\x6a\x04Host '127.0.0.1' is not allowed to connect to this MariaDB server"))

func TestParseGreeting(t *testing.T) {
	cases := []struct {
		name, in, product, version, plugin string
	}{
		{"mariadb", string(mariadbGreeting), "mariadb", "10.11.19", "mysql_native_password"},
		{"mysql8", string(mysql8Greeting), "mysql", "8.0.36", "caching_sha2_password"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, p, err := readPacket(bytes.NewReader([]byte(tc.in)), maxGreeting)
			if err != nil {
				t.Fatal(err)
			}
			g, ep, err := parseGreeting(p)
			if err != nil || ep != nil {
				t.Fatalf("err %v ep %v", err, ep)
			}
			if product(g.ServerVersion) != tc.product || cleanVersion(g.ServerVersion) != tc.version || g.AuthPlugin != tc.plugin {
				t.Errorf("got %s %s %s", product(g.ServerVersion), cleanVersion(g.ServerVersion), g.AuthPlugin)
			}
			if g.Capabilities&capProtocol41 == 0 {
				t.Errorf("capabilities %#x", g.Capabilities)
			}
		})
	}
}

func TestParseGreetingError(t *testing.T) {
	_, p, err := readPacket(bytes.NewReader(hostDenied), maxGreeting)
	if err != nil {
		t.Fatal(err)
	}
	g, ep, err := parseGreeting(p)
	if err != nil || g != nil || ep == nil || ep.Code != erHostNotPrivileged {
		t.Fatalf("g %v ep %v err %v", g, ep, err)
	}
}

func TestParseGreetingRejects(t *testing.T) {
	for name, in := range map[string]string{
		"http":      "HTTP/1.1 200 OK\r\n\r\n",
		"ssh":       "SSH-2.0-OpenSSH_9.2p1\r\n",
		"seq":       "\x05\x00\x00\x01\x0a1.0\x00\x00",
		"noversion": string(packet([]byte("\x0a\x00\x01\x02\x03\x04"))),
		"letters":   string(packet([]byte("\x0aabc\x00\x01\x02\x03\x04abcdefgh\x00\x00\x00"))),
		"filler":    string(packet([]byte("\x0a5.7\x00\x01\x02\x03\x04abcdefghX\x00\x00"))),
		"errcode":   string(packet([]byte("\xff\x01\x00hello"))),
	} {
		_, p, err := readPacket(bytes.NewReader([]byte(in)), maxGreeting)
		if err == nil {
			_, _, err = parseGreeting(p)
		}
		if !errors.Is(err, errNotMySQL) {
			t.Errorf("%s: err %v, want errNotMySQL", name, err)
		}
	}
}

func FuzzParseGreeting(f *testing.F) {
	for _, s := range [][]byte{mariadbGreeting, mysql8Greeting, hostDenied, []byte("HTTP/1.0 200 OK\r\n")} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		_, p, err := readPacket(bytes.NewReader(in), maxGreeting)
		if err != nil {
			return
		}
		g, ep, err := parseGreeting(p)
		if err == nil && (g == nil) == (ep == nil) {
			t.Fatalf("want exactly one of greeting and error packet: %v %v", g, ep)
		}
		if g != nil {
			_ = product(g.ServerVersion) + cleanVersion(g.ServerVersion)
		}
	})
}
