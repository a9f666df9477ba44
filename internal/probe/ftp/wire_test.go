package ftp

import (
	"bufio"
	"bytes"
	"net/netip"
	"strings"
	"testing"
)

func TestReadReply(t *testing.T) {
	br := bufio.NewReader(strings.NewReader("211-Features:\r\n EPSV\r\n MLSD\r\n211 End\r\n220 (vsFTPd 3.0.3)\r\n230\r\n"))
	r, err := readReply(br)
	if err != nil || r.Code != 211 || len(r.Lines) != 4 || r.Lines[2] != "MLSD" {
		t.Fatalf("feat %+v %v", r, err)
	}
	r, err = readReply(br)
	if err != nil || r.Code != 220 || r.Text() != "(vsFTPd 3.0.3)" {
		t.Fatalf("greeting %+v %v", r, err)
	}
	if r, err := readReply(br); err != nil || r.Code != 230 {
		t.Fatalf("bare code %+v %v", r, err)
	}
	for _, bad := range []string{"HTTP/1.1 200 OK\r\n", "SSH-2.0-x\r\n", "999 x\r\n", "22\r\n", strings.Repeat("A", 10000)} {
		if _, err := readReply(bufio.NewReader(strings.NewReader(bad))); err == nil {
			t.Errorf("accepted %q", bad[:min(len(bad), 20)])
		}
	}
}

func TestPassive(t *testing.T) {
	if p, err := parseEPSV("Entering Extended Passive Mode (|||40110|)"); err != nil || p != 40110 {
		t.Errorf("epsv %d %v", p, err)
	}
	for _, bad := range []string{"(|||0|)", "(||40110|)", "(|||99999|)", "(|!|1|)"} {
		if _, err := parseEPSV(bad); err == nil {
			t.Errorf("epsv accepted %q", bad)
		}
	}
	a, p, err := parsePASV("Entering Passive Mode (127,66,1,2,156,172).")
	if err != nil || a != netip.MustParseAddr("127.66.1.2") || p != 156*256+172 {
		t.Errorf("pasv %v %d %v", a, p, err)
	}
	if _, _, err := parsePASV("Entering Passive Mode (127,66,1,256,1,1)"); err == nil {
		t.Error("pasv accepted octet 256")
	}
}

func TestListings(t *testing.T) {
	unix := "drwxr-xr-x    3 0        0            4096 Nov 28 16:05 .\r\n" +
		"drwxr-xr-x    2 0        0            4096 Nov 28 16:05 sub dir\r\n" +
		"-rw-r--r--    1 0        0               4 Nov 28  2025 x y.csv\r\n" +
		"lrwxrwxrwx    1 ftp      ftp             7 Jan  1 10:00 link -> target\r\n" +
		"-rw-r--r--    1 owner    12 Jan  1 10:00 nogroup.txt\r\n" +
		"total 12\r\n"
	es, n := parseListing([]byte(unix), false, 10)
	if n != 4 || es[0].Name != "sub dir" || !es[0].Dir || es[1].Name != "x y.csv" || es[1].Size != 4 || !es[2].Link || es[2].Name != "link" || es[3].Size != 12 {
		t.Fatalf("unix %+v %d", es, n)
	}
	dos := "11-28-26  04:00PM       <DIR>          backups\r\n11-28-26  04:00PM                 1234 db.sql\r\n"
	es, n = parseListing([]byte(dos), false, 1)
	if n != 2 || len(es) != 1 || !es[0].Dir {
		t.Fatalf("dos %+v %d", es, n)
	}
	mlsd := "type=cdir;modify=20261128160500; .\r\ntype=dir;modify=2026; pub\r\ntype=file;size=12;modify=2026; a b.txt\r\ntype=OS.unix=slink:/x; l\r\n"
	es, n = parseListing([]byte(mlsd), true, 10)
	if n != 3 || !es[0].Dir || es[1].Name != "a b.txt" || es[1].Size != 12 || !es[2].Link {
		t.Fatalf("mlsd %+v %d", es, n)
	}
}

func TestBannerAndPath(t *testing.T) {
	for text, want := range map[string][2]string{
		"(vsFTPd 3.0.3)":                                             {"vsftpd", "3.0.3"},
		"ProFTPD 1.3.8 Server (Debian) [::1]":                        {"proftpd", "1.3.8"},
		"ProFTPD Server (Debian) [::1]":                              {"proftpd", ""},
		"---------- Welcome to Pure-FTPd [privsep] [TLS] ----------": {"pure-ftpd", ""},
		"Microsoft FTP Service":                                      {"microsoft-ftp", ""},
		"Welcome":                                                    {"", ""},
	} {
		if p, v := parseBanner(text); p != want[0] || v != want[1] {
			t.Errorf("%q: %q %q", text, p, v)
		}
	}
	if p := quotedPath(`"/pub ""x""" is the current directory`); p != `/pub "x"` {
		t.Errorf("quoted path %q", p)
	}
}

func FuzzWire(f *testing.F) {
	f.Add([]byte("211-Features:\r\n EPSV\r\n211 End\r\n"))
	f.Add([]byte("229 Entering Extended Passive Mode (|||40110|)\r\n"))
	f.Add([]byte("227 Entering Passive Mode (127,0,0,1,4,1)\r\n"))
	f.Add([]byte("-rw-r--r--    1 0        0               4 Nov 28 16:05 x.csv\r\ntype=file;size=1; y\r\n"))
	f.Add([]byte("11-28-26  04:00PM       <DIR>          backups\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		br := bufio.NewReader(bytes.NewReader(b))
		for i := 0; i < 4; i++ {
			r, err := readReply(br)
			if err != nil {
				break
			}
			if len(r.Lines) > maxReplyLines || r.Code < 100 || r.Code > 699 {
				t.Fatalf("reply %d lines code %d", len(r.Lines), r.Code)
			}
			_, _ = parseEPSV(r.Text())
			_, _, _ = parsePASV(r.Text())
			_, _ = parseBanner(r.Text())
			_ = quotedPath(r.Text())
		}
		for _, mlsd := range []bool{false, true} {
			es, n := parseListing(b, mlsd, 3)
			if len(es) > 3 || n < len(es) {
				t.Fatalf("listing %d of %d", len(es), n)
			}
			for _, e := range es {
				if e.Name == "" || strings.ContainsAny(e.Name, "/\x00") {
					t.Fatalf("bad name %q", e.Name)
				}
			}
		}
	})
}
