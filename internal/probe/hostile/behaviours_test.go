package hostile

import (
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
)

// exposedWith asserts one exposed finding carrying flag (at the finding
// or at a dataset).
func exposedWith(service, flag string) func(*testing.T, []finding.Finding) {
	return func(t *testing.T, fs []finding.Finding) {
		t.Helper()
		for _, f := range fs {
			if f.Service != service {
				continue
			}
			if f.Status != finding.StatusExposed {
				t.Errorf("%s status %s (error %q), want exposed", service, f.Status, f.Error)
			}
			has := slices.Contains(f.Flags, flag)
			for _, d := range f.Datasets {
				has = has || slices.Contains(d.Flags, flag)
			}
			if !has {
				t.Errorf("%s finding lacks flag %s (flags %v)", service, flag, f.Flags)
			}
			return
		}
		t.Errorf("no %s finding", service)
	}
}

// noNegativeCounts asserts that no count in any finding is negative.
func noNegativeCounts(t *testing.T, fs []finding.Finding) {
	t.Helper()
	for _, f := range fs {
		for _, d := range f.Datasets {
			if (d.Records != nil && *d.Records < 0) || (d.Bytes != nil && *d.Bytes < 0) {
				t.Errorf("%s dataset %s: negative count records=%v bytes=%v", f.Service, d.Name, d.Records, d.Bytes)
			}
		}
	}
}

var hostileNames = []string{plantedEmail, plantedToken}

func behaviours() []behaviour {
	bidiText := "ok " + plantedBidi + " " + plantedANSI + " \x00\x07"
	return append([]behaviour{
		// ---- every prober: raw TCP misbehaviour ----
		{name: "tarpit", serve: fixed(tarpit)},
		{name: "close-at-once", serve: fixed(closeAtOnce)},
		{name: "reset-on-accept", serve: fixed(reset)},
		{name: "reset-after-request", serve: fixed(resetAfterRequest)},
		{name: "endless-zeros", serve: fixed(endless(0))},
		{name: "endless-0xff", serve: fixed(endless(0xff))},
		{name: "endless-random", serve: fixed(endlessRandom)},
		{name: "drip-one-byte-per-second", serve: fixed(drip("+OK\r\n220 x\r\nHTTP/1.1 200 OK\r\n"))},
		{name: "garbage-after-request", serve: fixed(garbageAfterRequest)},
		{name: "huge-lengths-32bit", serve: fixed(lengths([]byte{0x7f, 0xff, 0xff, 0xff}))},
		{name: "negative-lengths", serve: fixed(lengths([]byte{0xff, 0xff, 0xff, 0xfe}))},
		{name: "overflowing-lengths-64bit", serve: fixed(lengths([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}))},
		{name: "varint-overflow", serve: fixed(lengths([]byte{0x20, 0xff, 0xff, 0xff, 0xff, 0xff}))},
		{name: "deep-nesting-bytes", serve: fixed(deepBytes)},
		{name: "tls-stall", serve: fixed(tlsStall)},
		{name: "tls-huge-record", serve: fixed(tlsHugeRecord)},
		{name: "ssh-banner-then-tarpit", serve: fixed(bannerThenTarpit("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"))},
		{name: "invalid-utf8-bidi-banner", serve: fixed(bannerThenTarpit("220 \xff\xfe\xc3 " + bidiText + "\r\n+OK " + bidiText + "\r\n")),
			planted: []string{plantedBidi, plantedANSI}},

		// ---- every HTTP-based prober ----
		{name: "http-endless-body", httpOnly: true, serve: fixed(httpEndlessBody)},
		{name: "http-header-flood", httpOnly: true, serve: fixed(httpHeaderFlood)},
		{name: "http-drip-headers", httpOnly: true, serve: fixed(httpDripHeaders)},
		{name: "http-huge-content-length", httpOnly: true, serve: fixed(rawHTTP("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 9223372036854775807\r\n\r\n{\"a\":"))},
		{name: "http-negative-content-length", httpOnly: true, serve: fixed(rawHTTP("HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n{}"))},
		{name: "http-gzip-nested-bomb", httpOnly: true, serve: fixed(httpHandler(bombHandler()))},
		{name: "http-redirect-other-address", httpOnly: true, serve: func(d *decoys) func(net.Conn, <-chan struct{}) {
			return httpHandler(redirectTo("http://" + d.samePort.ap.String()))
		}},
		{name: "http-redirect-other-port", httpOnly: true, serve: func(d *decoys) func(net.Conn, <-chan struct{}) {
			return httpHandler(redirectTo("http://" + d.otherPort.ap.String()))
		}},
		{name: "http-deep-json", httpOnly: true, serve: fixed(httpHandler(jsonEverywhere(200, deepJSON(100000))))},
		{name: "http-invalid-utf8-json", httpOnly: true, serve: fixed(httpHandler(jsonEverywhere(200, "{\"version\":{\"number\":\"\xff\xfe\"},\"status\":\"success\",\"data\":{\"\xc3\":\"\xed\xa0\x80\"}}")))},
		{name: "http-duplicate-keys-json", httpOnly: true, serve: fixed(httpHandler(jsonEverywhere(200, `{"status":"success","status":"error","data":{},"data":[],"version":{"number":"1"},"version":7}`)))},
		{name: "http-401-huge-challenge", httpOnly: true, serve: fixed(httpHandler(jsonEverywhere(401, `{"error":"no"}`, "WWW-Authenticate", `Basic realm="`+strings.Repeat("r", 60000)+`"`)))},
		{name: "https-endless-body", httpOnly: true, serve: fixed(tlsServer(httpEndlessBody))},
		{name: "http-control-bidi-strings", httpOnly: true, serve: fixed(httpHandler(jsonEverywhere(200,
			fmt.Sprintf(`{"status":"success","name":%[1]s,"cluster_name":%[1]s,"cluster_uuid":%[1]s,"tagline":"You Know, for Search","version":{"number":%[1]s},"data":{"version":%[1]s}}`, js(bidiText)),
			"Server", "x"+plantedBidi))), planted: []string{plantedBidi, plantedANSI}},

		// ---- Elasticsearch ----
		{name: "es-listing-past-cap", probers: []string{"elasticsearch"},
			serve: fixed(httpHandler(esNode(esOpts{rows: 5000}))), check: exposedWith("elasticsearch", probe.FlagDatasetsTruncated)},
		{name: "es-document-past-sample-budget", probers: []string{"elasticsearch"},
			serve: fixed(httpHandler(esNode(esOpts{indices: []string{"big"}, source: fmt.Sprintf(`{"note":"%s"}`, strings.Repeat("x", 64<<10))}))),
			check: exposedWith("elasticsearch", probe.FlagRecordTooLarge)},
		{name: "es-hostile-index-names", probers: []string{"elasticsearch"}, planted: hostileNames,
			serve: fixed(httpHandler(esNode(esOpts{indices: hostileNames})))},
		{name: "es-hostile-field-names", probers: []string{"elasticsearch"}, planted: hostileNames,
			serve: fixed(httpHandler(esNode(esOpts{indices: []string{"users"},
				mapping: fmt.Sprintf(`{%s:{"type":"keyword"},"x":{"properties":{%s:{"type":"text"}}}}`, js(plantedEmail), js(plantedToken))})))},
		{name: "es-hostile-document-keys", probers: []string{"elasticsearch"}, planted: hostileNames,
			serve: fixed(httpHandler(esNode(esOpts{indices: []string{"users"},
				source: fmt.Sprintf(`{%s:"v",%s:{"x":1}}`, js(plantedEmail), js(plantedToken))})))},
		{name: "es-hostile-cluster-name", probers: []string{"elasticsearch"}, planted: []string{plantedBidi, plantedANSI, plantedEmail},
			serve: fixed(httpHandler(esNode(esOpts{indices: []string{"a"}, clusterName: plantedEmail + bidiText})))},
		{name: "es-negative-counts", probers: []string{"elasticsearch"},
			serve: fixed(httpHandler(esNode(esOpts{indices: []string{"a", "b"}, docsCount: "-5", count: "-9223372036854775808"}))),
			check: noNegativeCounts},
		{name: "es-overflowing-counts", probers: []string{"elasticsearch"},
			serve: fixed(httpHandler(esNode(esOpts{indices: []string{"a", "b"}, docsCount: "99999999999999999999999", count: "9223372036854775807"}))),
			check: noNegativeCounts},
		{name: "es-duplicate-keys", probers: []string{"elasticsearch"},
			serve: fixed(httpHandler(esNode(esOpts{indices: []string{"a"}, rootExtra: `,"version":{"number":"1.0"},"cluster_uuid":"dup","version":{"number":"9.9.9"}`,
				source: `{"email":"a@b.example","email":"c@d.example","email":{"x":1}}`})))},
		{name: "es-deep-mapping", probers: []string{"elasticsearch"},
			serve: fixed(httpHandler(esNode(esOpts{indices: []string{"a"}, mapping: strings.Repeat(`{"f":{"properties":`, 20000) + `{}` + strings.Repeat(`}}`, 20000)})))},
		{name: "es-deep-document", probers: []string{"elasticsearch"},
			serve: fixed(httpHandler(esNode(esOpts{indices: []string{"a"}, source: deepJSON(20000)})))},

		// ---- Redis ----
		{name: "redis-huge-bulk-length", probers: []string{"redis"},
			serve: fixed(redisServer(map[string]string{"PING": "+PONG\r\n"}, "$9999999999999\r\nabc"))},
		{name: "redis-negative-lengths", probers: []string{"redis"},
			serve: fixed(redisServer(map[string]string{"PING": "+PONG\r\n", "INFO": "*-5\r\n"}, "$-7\r\n"))},
		{name: "redis-deep-array", probers: []string{"redis"},
			serve: fixed(redisServer(map[string]string{"PING": "+PONG\r\n"}, strings.Repeat("*1\r\n", 100000)+":1\r\n"))},
		{name: "redis-absurd-keyspace", probers: []string{"redis"},
			serve: fixed(redisServer(map[string]string{"PING": "+PONG\r\n",
				"INFO": redisInfo("db0:keys=-5,expires=0\r\ndb1:keys=99999999999999999999999,expires=1\r\ndb2:keys=9223372036854775807,expires=0")}, "*2\r\n$1\r\n0\r\n*0\r\n")),
			check: noNegativeCounts},
		{name: "redis-hostile-key-names", probers: []string{"redis"}, planted: hostileNames,
			serve: fixed(redisServer(map[string]string{"PING": "+PONG\r\n", "INFO": redisInfo("db0:keys=2,expires=0"),
				"SCAN": "*2\r\n" + bulk("0") + "*2\r\n" + bulk(plantedEmail) + bulk(plantedToken), "TYPE": "+string\r\n",
				"GET": bulk("v"), "MGET": "*2\r\n" + bulk("v") + bulk("w")}, "-ERR unknown command\r\n"))},

		// ---- MongoDB ----
		{name: "mongo-huge-message-length", probers: []string{"mongodb"}, serve: fixed(mongoHeader(0x7fffffff))},
		{name: "mongo-negative-message-length", probers: []string{"mongodb"}, serve: fixed(mongoHeader(-16))},
		{name: "mongo-deep-bson", probers: []string{"mongodb"}, serve: fixed(mongoDeep)},

		// ---- Memcached ----
		{name: "memcached-negative-items", probers: []string{"memcached"},
			serve: fixed(memcachedStats("-5")), check: noNegativeCounts},
		{name: "memcached-overflowing-items", probers: []string{"memcached"},
			serve: fixed(memcachedStats("99999999999999999999999")), check: noNegativeCounts},

		// ---- Server-first protocols ----
		{name: "mysql-huge-packet-length", probers: []string{"mysql"},
			serve: fixed(greeting(append([]byte{0xff, 0xff, 0xff, 0x00, 10}, make([]byte, 64)...)))},
		{name: "mysql-hostile-version-string", probers: []string{"mysql"}, planted: []string{plantedBidi, plantedANSI},
			serve: fixed(greeting(mysqlGreeting("5.7.0-\xff\xfe" + plantedBidi + plantedANSI)))},
		{name: "postgres-huge-message-length", probers: []string{"postgres"},
			serve: fixed(lengths([]byte{'R', 0x7f, 0xff, 0xff, 0xff}))},
		{name: "cassandra-huge-frame", probers: []string{"cassandra"},
			serve: fixed(lengths([]byte{0x84, 0, 0, 0, 0x06, 0x7f, 0xff, 0xff, 0xff}))},
		{name: "mqtt-remaining-length-overflow", probers: []string{"mqtt"},
			serve: fixed(lengths([]byte{0x20, 0xff, 0xff, 0xff, 0xff, 0x7f}))},

		// ---- Steering (more in TestSteering, with probetest's steering servers) ----
		{name: "http-redirect-loop", httpOnly: true, serve: fixed(httpHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n, _ := strconv.Atoi(r.URL.Query().Get("n"))
			http.Redirect(w, r, r.URL.Path+"?n="+strconv.Itoa(n+1), http.StatusMovedPermanently)
		})))},
	}, storeBehaviours()...)
}
