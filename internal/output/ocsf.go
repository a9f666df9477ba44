package output

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"path"
	"slices"
	"sync"
	"time"

	"github.com/leakwatch/leakwatch/internal/finding"
)

// OCSF constants: each finding becomes one Vulnerability Finding
// (class 2002, category 2 "Findings") with activity Create.
const (
	// OCSFVersion is the OCSF schema version the events follow.
	OCSFVersion = "1.3.0"

	ocsfCategoryUID  = 2
	ocsfClassUID     = 2002
	ocsfActivityID   = 1 // Create
	ocsfStatusNew    = 1
	ocsfResourceType = "Data Store"
	ocsfObservableIP = 2 // IP Address
)

// OCSF event shapes (only what leakwatch fills).
type (
	ocsfEvent struct {
		ActivityID      int                 `json:"activity_id"`
		ActivityName    string              `json:"activity_name"`
		CategoryUID     int                 `json:"category_uid"`
		CategoryName    string              `json:"category_name"`
		ClassUID        int                 `json:"class_uid"`
		ClassName       string              `json:"class_name"`
		TypeUID         int                 `json:"type_uid"`
		TypeName        string              `json:"type_name"`
		SeverityID      int                 `json:"severity_id"`
		Severity        string              `json:"severity"`
		StatusID        int                 `json:"status_id"`
		Status          string              `json:"status"`
		Time            int64               `json:"time"`
		Message         string              `json:"message"`
		Metadata        ocsfMetadata        `json:"metadata"`
		FindingInfo     ocsfFindingInfo     `json:"finding_info"`
		Resources       []ocsfResource      `json:"resources"`
		Vulnerabilities []ocsfVulnerability `json:"vulnerabilities"`
		Observables     []ocsfObservable    `json:"observables,omitempty"`
		Unmapped        ocsfUnmapped        `json:"unmapped"`
	}
	ocsfMetadata struct {
		Version string      `json:"version"`
		Product ocsfProduct `json:"product"`
	}
	ocsfProduct struct {
		Name       string `json:"name"`
		VendorName string `json:"vendor_name"`
		Version    string `json:"version"`
	}
	ocsfFindingInfo struct {
		UID           string   `json:"uid"`
		Title         string   `json:"title"`
		Desc          string   `json:"desc"`
		Types         []string `json:"types"`
		FirstSeenTime int64    `json:"first_seen_time,omitempty"`
		LastSeenTime  int64    `json:"last_seen_time,omitempty"`
	}
	ocsfResource struct {
		UID      string   `json:"uid"`
		Name     string   `json:"name"`
		Type     string   `json:"type"`
		Hostname string   `json:"hostname,omitempty"`
		IP       string   `json:"ip,omitempty"`
		Version  string   `json:"version,omitempty"`
		Labels   []string `json:"labels,omitempty"`
		// Data is an ocsfServiceRef (network) or an ocsfFileRef (file).
		Data any `json:"data"`
	}
	// ocsfFileRef is a file target's resource data.
	ocsfFileRef struct {
		Path    string `json:"path"`
		Service string `json:"service"`
	}
	// ocsfFile is OCSF's File object (a regular file).
	ocsfFile struct {
		Name   string `json:"name"`
		Path   string `json:"path"`
		TypeID int    `json:"type_id"`
		Type   string `json:"type"`
	}
	ocsfAffectedCode struct {
		File ocsfFile `json:"file"`
	}
	ocsfServiceRef struct {
		Host    string `json:"host"`
		Port    int    `json:"port"`
		Service string `json:"service"`
		Product string `json:"product,omitempty"`
		Version string `json:"version,omitempty"`
		TLS     bool   `json:"tls"`
	}
	ocsfVulnerability struct {
		Title        string           `json:"title"`
		Desc         string           `json:"desc"`
		Severity     string           `json:"severity"`
		CWE          *ocsfCWE         `json:"cwe,omitempty"`
		Remediation  *ocsfRemediation `json:"remediation,omitempty"`
		LastSeenTime int64            `json:"last_seen_time,omitempty"`
		// AffectedCode names the file of a file target.
		AffectedCode []ocsfAffectedCode `json:"affected_code,omitempty"`
	}
	ocsfCWE struct {
		UID     string `json:"uid"`
		Caption string `json:"caption"`
	}
	ocsfRemediation struct {
		Desc string `json:"desc"`
	}
	ocsfObservable struct {
		Name   string `json:"name"`
		TypeID int    `json:"type_id"`
		Type   string `json:"type"`
		Value  string `json:"value"`
	}
	// ocsfUnmapped carries what OCSF has no place for: the leakwatch
	// verdict, datasets and data classes, in the finding contract's shapes.
	ocsfUnmapped struct {
		Schema   string            `json:"schema"`
		Status   finding.Status    `json:"status"`
		Auth     finding.Auth      `json:"auth"`
		Severity finding.Severity  `json:"severity"`
		Records  int64             `json:"records"`
		Classes  []string          `json:"classes"`
		Flags    []string          `json:"flags,omitempty"`
		Datasets []finding.Dataset `json:"datasets"`
		Evidence map[string]any    `json:"evidence,omitempty"`
		Error    string            `json:"error,omitempty"`
	}
)

// OCSFWriter streams findings as OCSF Vulnerability Finding events, one
// JSON object a line. It is safe for concurrent use.
type OCSFWriter struct {
	mu   sync.Mutex
	w    io.Writer
	opts Options
	buf  bytes.Buffer
	enc  *json.Encoder
	now  func() time.Time // for findings without ObservedAt
	// closed: later Writes fail, as with every writer.
	closed bool
}

var _ Writer = (*OCSFWriter)(nil)

// NewOCSFWriter writes OCSF JSONL to w.
func NewOCSFWriter(w io.Writer, opts Options) *OCSFWriter {
	ow := &OCSFWriter{w: w, opts: opts, now: time.Now}
	ow.enc = json.NewEncoder(&ow.buf)
	ow.enc.SetEscapeHTML(false)
	return ow
}

// Write emits one event for f. As with JSONL, a finding that cannot be
// rendered becomes an event for its error record (see FlagWriteError) and
// Write returns nil; unsafe runes are written as \u escapes.
func (ow *OCSFWriter) Write(f finding.Finding) error {
	ow.mu.Lock()
	defer ow.mu.Unlock()
	if ow.closed {
		return fmt.Errorf("output: ocsf: write after close")
	}
	line := encodeLine(&ow.buf, ow.enc, &f, func(f *finding.Finding) any {
		return ocsfFromFinding(Normalize(*f), ow.opts, ow.now)
	})
	if _, err := ow.w.Write(line); err != nil {
		return fmt.Errorf("output: write ocsf: %w", err)
	}
	return nil
}

// Close ends the stream (every event was written as it came).
func (ow *OCSFWriter) Close() error {
	ow.mu.Lock()
	defer ow.mu.Unlock()
	ow.closed = true
	return nil
}

// WriteOCSF writes findings as OCSF JSONL.
func WriteOCSF(w io.Writer, findings []finding.Finding, opts Options) error {
	return WriteAll(FormatOCSF, w, opts, findings)
}

// ocsfSeverity maps severity to OCSF severity_id and its caption.
func ocsfSeverity(s finding.Severity) (int, string) {
	switch s {
	case finding.SeverityInfo:
		return 1, "Informational"
	case finding.SeverityLow:
		return 2, "Low"
	case finding.SeverityMedium:
		return 3, "Medium"
	case finding.SeverityHigh:
		return 4, "High"
	case finding.SeverityCritical:
		return 5, "Critical"
	}
	return 0, "Unknown"
}

func ocsfFromFinding(f finding.Finding, opts Options, now func() time.Time) ocsfEvent {
	observed := f.ObservedAt
	if observed.IsZero() {
		observed = now()
	}
	ms := observed.UnixMilli()
	sevID, sev := ocsfSeverity(f.Severity)
	title, desc := ocsfTitle(f), sarifStatusMessage(f)
	total, _ := recordTotals(f)

	ev := ocsfEvent{
		ActivityID: ocsfActivityID, ActivityName: "Create",
		CategoryUID: ocsfCategoryUID, CategoryName: "Findings",
		ClassUID: ocsfClassUID, ClassName: "Vulnerability Finding",
		TypeUID: ocsfClassUID*100 + ocsfActivityID, TypeName: "Vulnerability Finding: Create",
		SeverityID: sevID, Severity: sev,
		StatusID: ocsfStatusNew, Status: "New",
		Time:    ms,
		Message: desc,
		Metadata: ocsfMetadata{
			Version: OCSFVersion,
			Product: ocsfProduct{Name: "leakwatch", VendorName: "leakwatch", Version: opts.toolVersion()},
		},
		FindingInfo: ocsfFindingInfo{
			UID:          f.ID,
			Title:        title,
			Desc:         desc,
			Types:        []string{"Data Exposure", ocsfFindingType(f)},
			LastSeenTime: ms,
		},
		Resources: []ocsfResource{{
			UID:      targetURI(f.Target),
			Name:     f.Target.Name(),
			Type:     ocsfResourceType,
			Hostname: f.Target.Hostname,
			IP:       ipOf(f.Target.Host),
			Version:  f.Version,
			Labels:   ocsfLabels(f),
			Data: ocsfServiceRef{
				Host: f.Target.Host, Port: f.Target.Port, Service: f.Service,
				Product: f.Product, Version: f.Version, TLS: f.TLS,
			},
		}},
		Vulnerabilities: ocsfVulnerabilities(f, title, desc, sev, ms),
		Unmapped: ocsfUnmapped{
			Schema: f.Schema, Status: f.Status, Auth: f.Auth, Severity: f.Severity,
			Records: total, Classes: f.Classes, Flags: f.Flags, Datasets: f.Datasets,
			Evidence: f.Evidence, Error: f.Error,
		},
	}
	if h, ok := opts.historyOf(f.ID); ok {
		// The exposure window from the monitoring history.
		ev.FindingInfo.FirstSeenTime = h.FirstSeen.UnixMilli()
		if !h.LastSeenOpen.IsZero() {
			ev.FindingInfo.LastSeenTime = h.LastSeenOpen.UnixMilli()
		}
	}
	if f.Target.IsFile() {
		ocsfFileResource(&ev, f)
	}
	if ip := ipOf(f.Target.Host); ip != "" {
		ev.Observables = []ocsfObservable{{Name: "resources[0].ip", TypeID: ocsfObservableIP, Type: "IP Address", Value: ip}}
	}
	return ev
}

// ocsfFileResource makes the event's resource a file ("File", its URI,
// its path) and names it as the affected file of each vulnerability.
func ocsfFileResource(ev *ocsfEvent, f finding.Finding) {
	r := &ev.Resources[0]
	r.Type, r.Name, r.Hostname, r.IP = "File", f.Target.Name(), "", ""
	r.Data = ocsfFileRef{Path: f.Target.Path, Service: f.Service}
	file := ocsfFile{Name: path.Base(f.Target.Name()), Path: f.Target.Path, TypeID: 1, Type: "Regular File"}
	for i := range ev.Vulnerabilities {
		ev.Vulnerabilities[i].AffectedCode = []ocsfAffectedCode{{File: file}}
	}
}

// ocsfTitle is the one-line finding title.
func ocsfTitle(f finding.Finding) string {
	if f.Target.IsFile() {
		if len(f.Classes) == 0 {
			return "File checked, no data class found: " + f.Target.Name()
		}
		return sarifFileRule.Short + ": " + f.Target.Name()
	}
	who := f.Service + " at " + f.Target.Addr()
	switch {
	case f.Status == finding.StatusExposed && f.Auth == finding.AuthDefaultCredentials:
		return "Data store readable with default credentials: " + who
	case f.Status == finding.StatusExposed:
		return "Data store readable without credentials: " + who
	case f.Status == finding.StatusProtected:
		return "Data store requires credentials: " + who
	}
	return "Data store found, exposure undecided: " + who
}

// ocsfFindingType names the leakwatch rule behind the finding.
func ocsfFindingType(f finding.Finding) string {
	return sarifRuleByID(statusRule(f)).Name
}

func ocsfLabels(f finding.Finding) []string {
	labels := []string{"service:" + f.Service}
	if f.Product != "" {
		labels = append(labels, "product:"+f.Product)
	}
	return labels
}

// ocsfVulnerabilities lists the weakness (missing authentication, default
// credentials) and, for open stores, each alarming flag.
func ocsfVulnerabilities(f finding.Finding, title, desc, sev string, ms int64) []ocsfVulnerability {
	v := ocsfVulnerability{Title: title, Desc: desc, Severity: sev, LastSeenTime: ms}
	rule := sarifRuleByID(statusRule(f))
	switch {
	case f.Target.IsFile() && len(f.Classes) > 0:
		v.CWE = &ocsfCWE{UID: "CWE-312", Caption: "Cleartext Storage of Sensitive Information"}
		v.Remediation = &ocsfRemediation{Desc: rule.Help}
	case f.Target.IsFile():
	case f.Status == finding.StatusExposed && f.Auth == finding.AuthDefaultCredentials:
		v.CWE = &ocsfCWE{UID: "CWE-1392", Caption: "Use of Default Credentials"}
		v.Remediation = &ocsfRemediation{Desc: rule.Help}
	case f.Status == finding.StatusExposed:
		v.CWE = &ocsfCWE{UID: "CWE-306", Caption: "Missing Authentication for Critical Function"}
		v.Remediation = &ocsfRemediation{Desc: rule.Help}
	}
	out := []ocsfVulnerability{v}
	if f.Status != finding.StatusExposed {
		return out
	}
	for _, fr := range flagRules {
		if !slices.Contains(f.Flags, fr.flag) {
			continue
		}
		r := sarifRuleByID(fr.rule)
		out = append(out, ocsfVulnerability{
			Title:        r.Short + ": " + f.Target.Name(),
			Desc:         sarifFlagMessage(f, fr.flag),
			Severity:     sev,
			Remediation:  &ocsfRemediation{Desc: r.Help},
			LastSeenTime: ms,
		})
	}
	return out
}

// ipOf returns host when it is an IP address.
func ipOf(host string) string {
	if a, err := netip.ParseAddr(host); err == nil {
		return a.String()
	}
	return ""
}
