// Package finding holds leakwatch's domain types: what a scan found about one
// service, in the shape of the leakwatch.finding/v1 JSONL contract. It does no
// I/O; probers, the engine, stores and writers all speak these types.
package finding

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"time"
)

// Schema is the version tag written into every finding.
const Schema = "leakwatch.finding/v1"

// Status says whether a service gives its data away.
type Status string

const (
	// StatusExposed: data is readable without credentials (or with a
	// well-known default credential; then Auth is AuthDefaultCredentials).
	StatusExposed Status = "exposed"
	// StatusProtected: the service is there and demands credentials.
	StatusProtected Status = "protected"
	// StatusUnknown: the service is there, but whether it is open could not
	// be decided (e.g. it failed mid-probe).
	StatusUnknown Status = "unknown"
)

// Auth says what it took to read the data.
type Auth string

const (
	AuthNone               Auth = "none"
	AuthDefaultCredentials Auth = "default-credentials"
	AuthRequired           Auth = "required"
	AuthUnknown            Auth = "unknown"
)

// Severity orders findings for people.
type Severity string

const (
	SeverityInfo     Severity = "info"
	SeverityLow      Severity = "low"
	SeverityMedium   Severity = "medium"
	SeverityHigh     Severity = "high"
	SeverityCritical Severity = "critical"
)

// Rank gives an order to severities (higher is worse).
func (s Severity) Rank() int {
	switch s {
	case SeverityCritical:
		return 4
	case SeverityHigh:
		return 3
	case SeverityMedium:
		return 2
	case SeverityLow:
		return 1
	}
	return 0
}

// Target is where a service answered: a network endpoint (Kind empty:
// Host, Port, Hostname) or, for `leakwatch classify`, a local file (Kind
// TargetFile: Path only). See target.go for its JSON form and checks.
type Target struct {
	Host     string     `json:"host"`
	Port     int        `json:"port"`
	Hostname string     `json:"hostname"`
	Kind     TargetKind `json:"kind,omitempty"`
	Path     string     `json:"path,omitempty"`
}

// Addr is host:port, with IPv6 hosts bracketed; "" for a file target,
// which has no address to dial.
func (t Target) Addr() string {
	if t.Kind != TargetNetwork {
		return ""
	}
	host := t.Host
	for i := 0; i < len(host); i++ {
		if host[i] == ':' {
			return "[" + host + "]:" + strconv.Itoa(t.Port)
		}
	}
	return host + ":" + strconv.Itoa(t.Port)
}

// ClassCount says how much of one data class a dataset holds.
type ClassCount struct {
	Class string `json:"class"`
	// Sampled is how many records were read; Matched how many held the class.
	Sampled int `json:"sampled"`
	Matched int `json:"matched"`
	// EstimatedRecords extrapolates Matched/Sampled to the dataset's records
	// (nil when the dataset's size is not known).
	EstimatedRecords *int64 `json:"estimated_records"`
	// EstimateLow/High bound EstimatedRecords with a 95% Wilson interval.
	EstimateLow  *int64 `json:"estimated_records_low,omitempty"`
	EstimateHigh *int64 `json:"estimated_records_high,omitempty"`
	// DistinctSubjects estimates distinct values (people, devices) behind
	// the class across the dataset, for identifying classes.
	DistinctSubjects *int64 `json:"distinct_subjects,omitempty"`
	// Source is "values" when sampled values matched, "schema" when only
	// field names / mappings did.
	Source     string   `json:"source"`
	Confidence float64  `json:"confidence,omitempty"`
	Rules      []string `json:"rules,omitempty"`
	Fields     []string `json:"fields,omitempty"`
	// Examples are masked; never raw values.
	Examples []string `json:"examples"`
	// Hashes are keyed HMAC-SHA256 digests of matched values, for matching
	// the same value across stores without keeping it.
	Hashes []string `json:"hashes,omitempty"`
}

// Field is one column / mapping entry.
type Field struct {
	Name string `json:"name"`
	Type string `json:"type,omitempty"`
}

// Dataset is one index, collection, table, keyspace, bucket, ...
type Dataset struct {
	Name    string       `json:"name"`
	Kind    string       `json:"kind"`
	Records *int64       `json:"records"`
	Bytes   *int64       `json:"bytes,omitempty"`
	Hidden  bool         `json:"hidden,omitempty"`
	Sampled int          `json:"sampled"`
	Fields  []Field      `json:"fields,omitempty"`
	Classes []ClassCount `json:"classes"`
	Flags   []string     `json:"flags,omitempty"`
	Canary  []string     `json:"canaries,omitempty"`
}

// Finding is one service on one host:port.
type Finding struct {
	Schema     string         `json:"schema"`
	ID         string         `json:"id"`
	Target     Target         `json:"target"`
	Service    string         `json:"service"`
	Product    string         `json:"product,omitempty"`
	Version    string         `json:"version,omitempty"`
	TLS        bool           `json:"tls,omitempty"`
	Status     Status         `json:"status"`
	Auth       Auth           `json:"auth"`
	Severity   Severity       `json:"severity"`
	Datasets   []Dataset      `json:"datasets"`
	Classes    []string       `json:"classes"`
	Flags      []string       `json:"flags,omitempty"`
	Evidence   map[string]any `json:"evidence,omitempty"`
	Error      string         `json:"error,omitempty"`
	ObservedAt time.Time      `json:"observed_at"`
	// ReachableFrom names the sites (vantage points of a clustered
	// deployment, `leakwatch worker --site`) from which the service
	// answered, sorted; empty for a single-process scan. SiteInternet
	// among them raises the severity (Assess).
	ReachableFrom []string `json:"reachable_from,omitempty"`
}

// SiteInternet is the site label of vantage points outside every private
// network: a store that answers there is reachable by anyone.
const SiteInternet = "internet"

// FromInternet tells whether SiteInternet is among ReachableFrom.
func (f *Finding) FromInternet() bool {
	for _, s := range f.ReachableFrom {
		if s == SiteInternet {
			return true
		}
	}
	return false
}

// Fingerprint is the stable id of host:port:service (of path and service
// for a file target).
func Fingerprint(t Target, service string) string {
	key := fmt.Sprintf("%s|%d|%s", t.Host, t.Port, service)
	if t.Kind != TargetNetwork {
		key = fmt.Sprintf("%s\x00%s\x00%s", t.Kind, t.Path, service)
	}
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:10])
}

// TotalRecords adds up the records of visible datasets (nil counts are
// skipped), saturating at MaxCount.
func (f *Finding) TotalRecords() int64 {
	var n int64
	for _, d := range f.Datasets {
		if d.Records != nil && !d.Hidden {
			n = SatAdd(n, *d.Records)
		}
	}
	return n
}

// Finalize validates every number (Sanitize) and fills the derived
// fields: schema, id, class union, severity.
func (f *Finding) Finalize() {
	f.Sanitize()
	f.Schema = Schema
	if f.ID == "" {
		f.ID = Fingerprint(f.Target, f.Service)
	}
	seen := map[string]bool{}
	for _, d := range f.Datasets {
		for _, c := range d.Classes {
			seen[c.Class] = true
		}
	}
	f.Classes = f.Classes[:0:0]
	for c := range seen {
		f.Classes = append(f.Classes, c)
	}
	sort.Strings(f.Classes)
	if f.Datasets == nil {
		f.Datasets = []Dataset{}
	}
	for i := range f.Datasets {
		if f.Datasets[i].Classes == nil {
			f.Datasets[i].Classes = []ClassCount{}
		}
	}
	f.Severity = Assess(f)
}

// Credential classes make an exposed store critical regardless of size.
var credentialClasses = map[string]bool{
	"password": true, "password_hash": true, "auth_token": true, "api_key": true,
}

// Personal classes identify or describe people.
var personalClasses = map[string]bool{
	"email": true, "person_name": true, "username": true, "phone": true,
	"postal_address": true, "geo_location": true, "date_of_birth": true,
	"payment_card": true, "bank_account": true, "national_id": true,
	"wifi_ssid": true, "device_id": true, "mac_address": true, "ip_address": true,
}

// IsPersonal tells whether a class is personal data.
func IsPersonal(class string) bool { return personalClasses[class] }

// IsCredential tells whether a class is a credential or secret.
func IsCredential(class string) bool { return credentialClasses[class] }

// Assess derives severity from auth status × records × classes:
//   - exposed with credentials/secrets, >1,000 records of personal data,
//     a ransom note or code execution: critical
//   - exposed with personal data or >1,000 records: high
//   - exposed with some records: medium
//   - exposed but empty: low
//   - protected / unknown: info
//
// A service reachable from the internet (FromInternet) is one level worse
// (at most critical): anyone can find it, not only those inside.
func Assess(f *Finding) Severity {
	s := assess(f)
	if f.FromInternet() && s != SeverityCritical {
		s = [...]Severity{SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical}[s.Rank()]
	}
	return s
}

func assess(f *Finding) Severity {
	if f.Status != StatusExposed {
		return SeverityInfo
	}
	for _, fl := range f.Flags {
		if fl == "ransom-note" || fl == "code-execution" || fl == "canary" {
			return SeverityCritical
		}
	}
	var personalRecords int64
	personal := false
	for _, d := range f.Datasets {
		if d.Hidden {
			continue
		}
		for _, c := range d.Classes {
			if credentialClasses[c.Class] {
				return SeverityCritical
			}
			if personalClasses[c.Class] {
				personal = true
				var n int64
				if c.EstimatedRecords != nil {
					n = *c.EstimatedRecords
				} else if d.Records != nil {
					n = *d.Records
				} else {
					n = int64(c.Matched)
				}
				if n > personalRecords {
					personalRecords = n
				}
			}
		}
	}
	total := f.TotalRecords()
	switch {
	case personal && personalRecords > 1000:
		return SeverityCritical
	case personal || total > 1000:
		return SeverityHigh
	case total > 0:
		return SeverityMedium
	}
	return SeverityLow
}

// Int64 returns a pointer to n, for the optional counts.
func Int64(n int64) *int64 { return &n }
