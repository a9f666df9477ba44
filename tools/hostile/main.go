// Command hostile runs hand-written hostile servers "of the worst kind" on
// loopback, for scripts/bench-hostile-rss.sh: on each of -hosts addresses
// (127.79.0.1, …) it listens on several data-store ports, and on every
// connection streams endless data shaped to make a prober buffer as much as
// it can — no real server behaves so:
//
//	3306  MySQL greeting announcing a 16 MiB packet, then endless bytes
//	9200  HTTP 200 with a 1 TiB Content-Length JSON body, endless
//	8080  HTTP 200, chunked, endless chunks
//	6379  Redis bulk string of 1 GB to any command, endless
//	11211 memcached: endless STAT lines
//	27017 MongoDB reply announcing 48 MB, endless
//	5432  PostgreSQL: 'R' message announcing 1 GB, endless
//	21    FTP: one endless greeting line
//
// It prints "ready N" once all listen, and runs until killed.
package main

import (
	"bufio"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"
)

type behaviour func(c net.Conn)

var filler = []byte(strings.Repeat(`{"email":"x@example.com","a":"`+strings.Repeat("A", 200)+`"},`, 256))

// endless writes prefix, then filler until the client goes away.
func endless(prefix []byte) behaviour {
	return func(c net.Conn) {
		if _, err := c.Write(prefix); err != nil {
			return
		}
		for {
			if _, err := c.Write(filler); err != nil {
				return
			}
		}
	}
}

// afterRequest waits for the client's first bytes, then runs b.
func afterRequest(b behaviour) behaviour {
	return func(c net.Conn) {
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		buf := make([]byte, 4096)
		if _, err := c.Read(buf); err != nil {
			return
		}
		go func() { _, _ = io.Copy(io.Discard, c) }()
		b(c)
	}
}

func mysqlGreeting() []byte {
	h := []byte{0xff, 0xff, 0xff, 0} // 16 MiB - 1 payload, seq 0
	return append(h, 10, '8', '.', '0', '.', '3', '6', 0)
}

func mongoHuge() []byte {
	b := make([]byte, 16)
	binary.LittleEndian.PutUint32(b, 48<<20)
	binary.LittleEndian.PutUint32(b[12:], 1) // OP_REPLY
	return b
}

func main() {
	hosts := flag.Int("hosts", 16, "number of hostile hosts")
	prefix := flag.String("net", "127.79", "first two octets of the loopback /16")
	flag.Parse()
	base, err := netip.ParseAddr(*prefix + ".0.0")
	if err != nil || !base.IsLoopback() {
		fmt.Fprintln(os.Stderr, "hostile: -net must be a 127.x prefix")
		os.Exit(2)
	}
	pg := []byte{'R', 0x40, 0, 0, 0}
	servers := map[int]behaviour{
		3306:  endless(mysqlGreeting()),
		21:    endless([]byte("220 ")),
		9200:  afterRequest(endless([]byte("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1099511627776\r\n\r\n["))),
		8080:  afterRequest(chunked),
		6379:  afterRequest(endless([]byte("$1000000000\r\n"))),
		11211: afterRequest(stats),
		27017: afterRequest(endless(mongoHuge())),
		5432:  afterRequest(endless(pg)),
	}
	addr := base
	n := 0
	for range *hosts {
		addr = addr.Next()
		for port, b := range servers {
			l, err := net.Listen("tcp", netip.AddrPortFrom(addr, uint16(port)).String())
			if err != nil {
				fmt.Fprintf(os.Stderr, "hostile: %v\n", err)
				os.Exit(1)
			}
			n++
			go func() {
				for {
					c, err := l.Accept()
					if err != nil {
						continue
					}
					go func() { defer c.Close(); b(c) }()
				}
			}()
		}
	}
	fmt.Printf("ready %d\n", n)
	select {}
}

func chunked(c net.Conn) {
	w := bufio.NewWriterSize(c, 64<<10)
	fmt.Fprint(w, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
	for {
		fmt.Fprintf(w, "%x\r\n%s\r\n", len(filler), filler)
		if w.Flush() != nil {
			return
		}
	}
}

func stats(c net.Conn) {
	w := bufio.NewWriterSize(c, 64<<10)
	for i := 0; ; i++ {
		fmt.Fprintf(w, "STAT k%d %s\r\n", i, strings.Repeat("v", 4000))
		if i%16 == 0 && w.Flush() != nil {
			return
		}
	}
}
