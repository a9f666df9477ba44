package zookeeper

import (
	"strings"
)

// notWhitelisted is how ZooKeeper 3.5+ refuses a four-letter word that its
// 4lw.commands.whitelist does not allow.
const notWhitelisted = "is not executed because it is not in the whitelist"

// maxFourLetterFields bounds what a hostile reply can make us keep.
const maxFourLetterFields = 512

// parseFourLetter parses a "srvr" reply ("Key: value" lines) or a "mntr"
// reply ("key<TAB>value" lines) into one map.
func parseFourLetter(s string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimRight(line, "\r")
		k, v, ok := strings.Cut(line, "\t")
		if !ok {
			k, v, ok = strings.Cut(line, ": ")
		}
		if !ok || k == "" || len(out) >= maxFourLetterFields {
			continue
		}
		out[k] = strings.TrimSpace(v)
	}
	return out
}

// version extracts "3.8.0" from "3.8.0-${mvngit.commit.id}, built on ...".
func version(v string) string {
	v, _, _ = strings.Cut(v, ",")
	v, _, _ = strings.Cut(v, "-")
	return strings.TrimSpace(v)
}
