package webdump

import (
	"bytes"
	"net/url"
	"regexp"
	"strings"

	"github.com/leakwatch/leakwatch/internal/classify"
)

// looksLikeHTML tells whether a body is an HTML page (a catch-all index,
// an error page): such a body never validates as a dump file.
func looksLikeHTML(b []byte) bool {
	t := bytes.TrimLeft(b, " \t\r\n\ufeff")
	if len(t) > 0 && t[0] == '<' {
		return true
	}
	head := bytes.ToLower(b[:min(len(b), 1024)])
	return bytes.Contains(head, []byte("<html")) || bytes.Contains(head, []byte("<!doctype html"))
}

var (
	gitRefRE = regexp.MustCompile(`^ref: refs/[A-Za-z0-9._/\-]+$`)
	gitSHARE = regexp.MustCompile(`^[0-9a-f]{40}([0-9a-f]{24})?$`)
)

// parseGitHEAD validates a .git/HEAD file: one line, a symbolic ref or a
// detached commit id. It returns the ref.
func parseGitHEAD(b []byte) (string, bool) {
	s := strings.TrimRight(string(b), "\r\n")
	if strings.ContainsAny(s, "\r\n") || len(s) > 200 {
		return "", false
	}
	if gitRefRE.MatchString(s) {
		return strings.TrimPrefix(s, "ref: "), true
	}
	if gitSHARE.MatchString(s) {
		return s, true
	}
	return "", false
}

// iniEntry is one key of a git-config / AWS-credentials style file.
type iniEntry struct {
	Section string
	Key     string
	Value   string
}

var (
	iniSectionRE = regexp.MustCompile(`^\[\s*([A-Za-z0-9._\-]+)(?:\s+"((?:[^"\\]|\\.)*)")?\s*\]$`)
	iniKeyRE     = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9_.\-]*)\s*=\s*(.*)$`)
)

// parseINI parses an INI-style file (git config, ~/.aws/credentials). It
// returns the entries and whether every meaningful line parsed: a page of
// HTML or prose does not.
func parseINI(b []byte, maxEntries int) ([]iniEntry, bool) {
	if looksLikeHTML(b) {
		return nil, false
	}
	var (
		out     []iniEntry
		section string
		bad     int
		good    int
	)
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if m := iniSectionRE.FindStringSubmatch(line); m != nil {
			section = m[1]
			if m[2] != "" {
				section += "." + m[2]
			}
			good++
			continue
		}
		if m := iniKeyRE.FindStringSubmatch(line); m != nil && section != "" {
			good++
			if len(out) < maxEntries {
				out = append(out, iniEntry{Section: section, Key: m[1], Value: strings.TrimSpace(m[2])})
			}
			continue
		}
		bad++
	}
	return out, good > 0 && bad == 0
}

// parseGitConfig validates a .git/config: an INI file with a [core] section.
func parseGitConfig(b []byte, maxEntries int) ([]iniEntry, bool) {
	es, ok := parseINI(b, maxEntries)
	if !ok {
		return nil, false
	}
	for _, e := range es {
		if e.Section == "core" {
			return es, true
		}
	}
	return nil, false
}

// parseAWSCredentials validates an AWS shared credentials file: an INI file
// with an aws_access_key_id key. Records are profiles.
func parseAWSCredentials(b []byte, maxEntries int) ([]iniEntry, bool) {
	es, ok := parseINI(b, maxEntries)
	if !ok {
		return nil, false
	}
	for _, e := range es {
		if strings.EqualFold(e.Key, "aws_access_key_id") {
			return es, true
		}
	}
	return nil, false
}

// iniRecords groups entries into one record per section; keys are the
// record's paths.
func iniRecords(es []iniEntry, prefixSection bool) []classify.Record {
	var out []classify.Record
	idx := map[string]int{}
	for _, e := range es {
		i, ok := idx[e.Section]
		if !ok {
			i = len(out)
			idx[e.Section] = i
			out = append(out, classify.Record{})
		}
		p := e.Key
		if prefixSection {
			p = e.Section + "." + e.Key
		}
		out[i].Values = append(out[i].Values, classify.Value{Path: p, Text: e.Value})
	}
	return out
}

// envEntry is one KEY=VALUE line of a .env file.
type envEntry struct {
	Key   string
	Value string
}

var envLineRE = regexp.MustCompile(`^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*)$`)

// parseEnv validates a dotenv file: most meaningful lines are KEY=VALUE.
// It returns up to maxEntries entries and the number of KEY=VALUE lines.
func parseEnv(b []byte, maxEntries int) ([]envEntry, int, bool) {
	if looksLikeHTML(b) {
		return nil, 0, false
	}
	var (
		out   []envEntry
		pairs int
		other int
	)
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		m := envLineRE.FindStringSubmatch(line)
		if m == nil {
			other++
			continue
		}
		pairs++
		if len(out) < maxEntries {
			out = append(out, envEntry{Key: m[1], Value: unquoteEnv(m[2])})
		}
	}
	return out, pairs, pairs > 0 && pairs >= 2*other
}

func unquoteEnv(v string) string {
	v = strings.TrimSpace(v)
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		return v[1 : len(v)-1]
	}
	if i := strings.Index(v, " #"); i >= 0 {
		v = strings.TrimSpace(v[:i])
	}
	return v
}

// parseRDB validates a Redis RDB file header ("REDIS0011") and returns
// its format version.
func parseRDB(b []byte) (string, bool) {
	if len(b) < 9 || string(b[:5]) != "REDIS" {
		return "", false
	}
	for _, c := range b[5:9] {
		if c < '0' || c > '9' {
			return "", false
		}
	}
	return string(b[5:9]), true
}

var (
	indexTitleRE = regexp.MustCompile(`(?i)<title>\s*Index of /`)
	hrefRE       = regexp.MustCompile(`(?i)<a\s+href="([^"]*)"`)
)

// parseAutoindex validates a server-generated directory listing (nginx
// autoindex, Apache mod_autoindex, python http.server) and returns its
// entry names.
func parseAutoindex(b []byte, maxEntries int) ([]string, int, bool) {
	if !indexTitleRE.Match(b) {
		return nil, 0, false
	}
	var (
		out []string
		n   int
	)
	seen := map[string]bool{}
	for _, m := range hrefRE.FindAllSubmatch(b, -1) {
		h := string(m[1])
		if h == "" || h == "../" || strings.ContainsAny(h[:1], "?/#") || strings.Contains(h, "://") {
			continue
		}
		if u, err := url.PathUnescape(h); err == nil {
			h = u
		}
		if seen[h] {
			continue
		}
		seen[h] = true
		n++
		if len(out) < maxEntries {
			out = append(out, h)
		}
	}
	return out, n, true
}
