package redis

import (
	"sort"
	"strconv"
	"strings"
)

// info is a parsed INFO reply: "field:value" lines, section headers
// ("# Server") and blank lines skipped. Field names are unique across
// sections in every Redis version, so one flat map suffices.
type info map[string]string

// maxInfoFields bounds what a hostile INFO reply can make us keep.
const maxInfoFields = 4096

// parseInfo parses the text of an INFO reply.
func parseInfo(s string) info {
	out := info{}
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok || k == "" {
			continue
		}
		if len(out) >= maxInfoFields {
			break
		}
		out[k] = v
	}
	return out
}

// keyspace is one "dbN:keys=..,expires=..,avg_ttl=.." line.
type keyspace struct {
	db      int
	keys    int64
	expires int64
}

// name is the dataset name ("db0").
func (k keyspace) name() string { return "db" + strconv.Itoa(k.db) }

// maxDB bounds the database numbers accepted (Redis allows up to the
// "databases" setting, 16 by default; forks allow more).
const maxDB = 1 << 16

// keyspaces returns the keyspace lines of an INFO reply, largest first.
func (in info) keyspaces() []keyspace {
	var out []keyspace
	for k, v := range in {
		ks, ok := parseKeyspace(k, v)
		if ok {
			out = append(out, ks)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].keys != out[j].keys {
			return out[i].keys > out[j].keys
		}
		return out[i].db < out[j].db
	})
	return out
}

// parseKeyspace parses field "db3" with value "keys=12,expires=0,avg_ttl=0".
func parseKeyspace(field, val string) (keyspace, bool) {
	num, ok := strings.CutPrefix(field, "db")
	if !ok {
		return keyspace{}, false
	}
	db, err := strconv.Atoi(num)
	if err != nil || db < 0 || db > maxDB {
		return keyspace{}, false
	}
	ks := keyspace{db: db, keys: -1}
	for _, kv := range strings.Split(val, ",") {
		k, v, _ := strings.Cut(kv, "=")
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			continue
		}
		switch k {
		case "keys":
			ks.keys = n
		case "expires":
			ks.expires = n
		}
	}
	if ks.keys < 0 {
		return keyspace{}, false
	}
	return ks, true
}
