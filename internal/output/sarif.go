package output

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/leakwatch/leakwatch/internal/finding"
)

// SARIF constants.
const (
	sarifSchemaURI = "https://json.schemastore.org/sarif-2.1.0.json"
	sarifVersion   = "2.1.0"
	// sarifFingerprintKey names the partial fingerprint that carries the
	// finding id (stable per host:port:service), so code scanning keeps one
	// alert per service across runs.
	sarifFingerprintKey = "leakwatchFindingId/v1"
)

// sarifRuleDef is one leakwatch rule. A finding yields one result under its
// status rule (LW001, LW002, LW005, LW006) plus one per alarming flag
// (LW003, LW004, LW007), so a ransom note is its own alert next to the
// exposure it came through.
type sarifRuleDef struct {
	ID, Name, Short, Full, Help string
	Level                       string
	SecuritySeverity            string // GitHub's 0.0–10.0 score; "" for informational rules
	Tags                        []string
}

var sarifRules = []sarifRuleDef{
	{
		ID: "LW001", Name: "exposed-data-store",
		Short: "Data store readable without credentials",
		Full:  "A data store answers data requests without any authentication: anyone who can reach the address can read (and usually change) its data.",
		Help:  "Enable authentication on the service, bind it to a private interface, and restrict who can reach the port with a firewall. Then review the service's access logs for reads by others since it was opened, and rotate any credentials or tokens it held.",
		Level: "error", SecuritySeverity: "8.2",
		Tags: []string{"security", "data-exposure", "external/cwe/cwe-306"},
	},
	{
		ID: "LW002", Name: "protected-data-store",
		Short: "Data store reachable, credentials required",
		Full:  "A data store is reachable on the network and demands credentials. Nothing is exposed now; the service is listed for inventory.",
		Help:  "No action is needed if the service is meant to be reachable from this network. Otherwise restrict access to the port.",
		Level: "note",
		Tags:  []string{"security", "inventory"},
	},
	{
		ID: "LW003", Name: "ransom-note",
		Short: "Ransom note found in a data store",
		Full:  "A dataset named or shaped like a ransom note sits in an open data store: someone has most likely already read, deleted or encrypted its data.",
		Help:  "Treat this as an incident: keep the evidence (do not delete the note), close access to the service, determine what was taken from logs and backups, and follow your breach-notification process.",
		Level: "error", SecuritySeverity: "9.6",
		Tags: []string{"security", "data-exposure", "compromise", "external/cwe/cwe-306"},
	},
	{
		ID: "LW004", Name: "code-execution",
		Short: "Open service allows code execution",
		Full:  "The unauthenticated service lets a client run code or commands (scripts, notebooks, eval-like features), which puts the host itself at risk.",
		Help:  "Close network access to the service at once, enable authentication, disable scripting features that are not needed, and check the host for signs of compromise.",
		Level: "error", SecuritySeverity: "9.8",
		Tags: []string{"security", "external/cwe/cwe-306", "external/cwe/cwe-94"},
	},
	{
		ID: "LW005", Name: "default-credentials",
		Short: "Data store readable with default credentials",
		Full:  "A data store accepts a well-known default user name and password, which is as good as no authentication.",
		Help:  "Change the default password (or disable the default account), and review who may have used it.",
		Level: "error", SecuritySeverity: "8.2",
		Tags: []string{"security", "data-exposure", "external/cwe/cwe-1392"},
	},
	{
		ID: "LW006", Name: "unknown-data-store",
		Short: "Data store found, exposure undecided",
		Full:  "A data store answered, but whether its data is readable without credentials could not be decided (e.g. it failed mid-probe).",
		Help:  "Check the service by hand or scan it again.",
		Level: "warning",
		Tags:  []string{"security", "inventory"},
	},
	{
		ID: "LW007", Name: "canary-exposed",
		Short: "Canary record found in an open data store",
		Full:  "A canary (a planted marker record that must never be reachable) was read from an open data store: data meant to be private is exposed.",
		Help:  "Close access to the service and find out how the data that carries the canary came to be there.",
		Level: "error", SecuritySeverity: "9.1",
		Tags: []string{"security", "data-exposure", "external/cwe/cwe-200"},
	},
}

// sarifFileRule is the status rule of every file finding (`leakwatch
// classify`): a file is not a service that answers, so none of the rules
// above fits. It is listed in a log's rules only when the log holds a file
// finding, after the others, so logs of network findings are unchanged.
var sarifFileRule = sarifRuleDef{
	ID: "LW008", Name: "sensitive-data-in-file",
	Short: "File holds personal data or secrets",
	Full:  "A local file (an export, dump or log checked with leakwatch classify) holds records of personal data or credentials.",
	Help:  "Make sure the file may hold this data before it is shared, uploaded or committed: drop or mask the columns that hold it, keep the file out of the export or repository, or encrypt it; rotate any credential it holds that has already left.",
	Level: "warning", SecuritySeverity: "7.5",
	Tags: []string{"security", "data-exposure", "external/cwe/cwe-312"},
}

// flagRules maps finding flags to their own rule.
var flagRules = []struct{ flag, rule string }{
	{"ransom-note", "LW003"},
	{"code-execution", "LW004"},
	{"canary", "LW007"},
}

func sarifRuleIndex(id string) int {
	if id == sarifFileRule.ID {
		return len(sarifRules)
	}
	return slices.IndexFunc(sarifRules, func(r sarifRuleDef) bool { return r.ID == id })
}

// flagRule is the rule of an alarming flag.
func flagRule(flag string) string {
	for _, fr := range flagRules {
		if fr.flag == flag {
			return fr.rule
		}
	}
	return "LW006"
}

// sarifRuleByID is the definition of rule id (sarifRules or sarifFileRule).
func sarifRuleByID(id string) sarifRuleDef {
	if id == sarifFileRule.ID {
		return sarifFileRule
	}
	return sarifRules[sarifRuleIndex(id)]
}

// SARIF 2.1.0 document shapes (only what leakwatch fills).
type (
	sarifLog struct {
		Schema  string     `json:"$schema"`
		Version string     `json:"version"`
		Runs    []sarifRun `json:"runs"`
	}
	sarifRun struct {
		Tool        sarifTool         `json:"tool"`
		Invocations []sarifInvocation `json:"invocations,omitempty"`
		Results     []sarifResult     `json:"results"`
	}
	sarifTool struct {
		Driver sarifDriver `json:"driver"`
	}
	sarifDriver struct {
		Name           string      `json:"name"`
		Version        string      `json:"version"`
		InformationURI string      `json:"informationUri,omitempty"`
		Rules          []sarifRule `json:"rules"`
	}
	sarifRule struct {
		ID                   string             `json:"id"`
		Name                 string             `json:"name"`
		ShortDescription     sarifMessage       `json:"shortDescription"`
		FullDescription      sarifMessage       `json:"fullDescription"`
		Help                 sarifMessage       `json:"help"`
		DefaultConfiguration sarifConfiguration `json:"defaultConfiguration"`
		Properties           sarifRuleProps     `json:"properties"`
	}
	sarifConfiguration struct {
		Level string `json:"level"`
	}
	sarifRuleProps struct {
		Tags             []string `json:"tags"`
		Precision        string   `json:"precision"`
		SecuritySeverity string   `json:"security-severity,omitempty"`
	}
	sarifMessage struct {
		Text     string `json:"text"`
		Markdown string `json:"markdown,omitempty"`
	}
	sarifInvocation struct {
		ExecutionSuccessful bool `json:"executionSuccessful"`
	}
	sarifResult struct {
		RuleID              string            `json:"ruleId"`
		RuleIndex           int               `json:"ruleIndex"`
		Level               string            `json:"level"`
		Message             sarifMessage      `json:"message"`
		Locations           []sarifLocation   `json:"locations"`
		PartialFingerprints map[string]string `json:"partialFingerprints"`
		Provenance          *sarifProvenance  `json:"provenance,omitempty"`
		Properties          sarifResultProps  `json:"properties"`
	}
	// sarifProvenance is SARIF 2.1.0 §3.48 resultProvenance: when the
	// exposure was first and last detected (from the monitoring history).
	sarifProvenance struct {
		FirstDetectionTimeUTC string `json:"firstDetectionTimeUtc"`
		LastDetectionTimeUTC  string `json:"lastDetectionTimeUtc"`
	}
	sarifLocation struct {
		PhysicalLocation sarifPhysicalLocation  `json:"physicalLocation"`
		LogicalLocations []sarifLogicalLocation `json:"logicalLocations"`
		Message          *sarifMessage          `json:"message,omitempty"`
	}
	sarifPhysicalLocation struct {
		ArtifactLocation sarifArtifactLocation `json:"artifactLocation"`
		Region           sarifRegion           `json:"region"`
	}
	sarifArtifactLocation struct {
		URI string `json:"uri"`
	}
	sarifRegion struct {
		StartLine int `json:"startLine"`
	}
	sarifLogicalLocation struct {
		Name               string `json:"name"`
		FullyQualifiedName string `json:"fullyQualifiedName"`
		Kind               string `json:"kind"`
	}
	sarifResultProps struct {
		FindingID  string             `json:"finding_id"`
		Target     string             `json:"target"`
		Hostname   string             `json:"hostname,omitempty"`
		Service    string             `json:"service"`
		Product    string             `json:"product,omitempty"`
		Version    string             `json:"version,omitempty"`
		Status     finding.Status     `json:"status"`
		Auth       finding.Auth       `json:"auth"`
		Severity   finding.Severity   `json:"severity"`
		Datasets   int                `json:"datasets"`
		Records    int64              `json:"records"`
		Classes    []sarifClassCount  `json:"classes"`
		DatasetsBy []sarifDatasetProp `json:"dataset_details,omitempty"`
		Flags      []string           `json:"flags,omitempty"`
		ObservedAt string             `json:"observed_at,omitempty"`
		// Lifecycle and ClosedAt come from the monitoring history.
		Lifecycle string `json:"lifecycle,omitempty"`
		ClosedAt  string `json:"closed_at,omitempty"`
	}
	sarifClassCount struct {
		Class            string `json:"class"`
		EstimatedRecords *int64 `json:"estimated_records"`
		Matched          int    `json:"matched"`
		Sampled          int    `json:"sampled"`
	}
	sarifDatasetProp struct {
		Name    string   `json:"name"`
		Kind    string   `json:"kind"`
		Records *int64   `json:"records"`
		Classes []string `json:"classes"`
	}
)

// SARIFWriter collects findings and writes one SARIF 2.1.0 log on Close.
// It is safe for concurrent use.
type SARIFWriter struct {
	mu       sync.Mutex
	w        io.Writer
	opts     Options
	findings []finding.Finding
	closed   bool
}

var _ Writer = (*SARIFWriter)(nil)

// NewSARIFWriter writes a SARIF log to w on Close.
func NewSARIFWriter(w io.Writer, opts Options) *SARIFWriter {
	return &SARIFWriter{w: w, opts: opts}
}

// Write keeps f for the log.
func (sw *SARIFWriter) Write(f finding.Finding) error {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	if sw.closed {
		return fmt.Errorf("output: sarif: write after close")
	}
	sw.findings = append(sw.findings, normalizeProtected(f))
	return nil
}

// Close writes the log (also when there are no findings: an empty results
// list tells code scanning that earlier alerts are fixed).
func (sw *SARIFWriter) Close() error {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	if sw.closed {
		return nil
	}
	sw.closed = true
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(buildSARIF(sw.findings, sw.opts)); err != nil {
		return fmt.Errorf("output: encode sarif: %w", err)
	}
	if _, err := sw.w.Write(escapeUnsafeJSON(buf.Bytes())); err != nil {
		return fmt.Errorf("output: write sarif: %w", err)
	}
	return nil
}

// WriteSARIF writes findings as one SARIF log.
func WriteSARIF(w io.Writer, findings []finding.Finding, opts Options) error {
	return WriteAll(FormatSARIF, w, opts, findings)
}

func buildSARIF(fs []finding.Finding, opts Options) sarifLog {
	defs := sarifRules
	if slices.ContainsFunc(fs, func(f finding.Finding) bool { return f.Target.IsFile() }) {
		defs = append(slices.Clip(defs), sarifFileRule)
	}
	rules := make([]sarifRule, len(defs))
	for i, r := range defs {
		rules[i] = sarifRule{
			ID:                   r.ID,
			Name:                 r.Name,
			ShortDescription:     sarifMessage{Text: r.Short},
			FullDescription:      sarifMessage{Text: r.Full},
			Help:                 sarifMessage{Text: r.Help},
			DefaultConfiguration: sarifConfiguration{Level: r.Level},
			Properties:           sarifRuleProps{Tags: r.Tags, Precision: "very-high", SecuritySeverity: r.SecuritySeverity},
		}
	}
	results := []sarifResult{}
	for _, f := range sortFindings(fs) {
		rs := protectedSARIFResults(&f)
		if h, ok := opts.historyOf(Normalize(f).ID); ok {
			for i := range rs {
				withHistory(&rs[i], h)
			}
		}
		results = append(results, rs...)
	}
	return sarifLog{
		Schema:  sarifSchemaURI,
		Version: sarifVersion,
		Runs: []sarifRun{{
			Tool:        sarifTool{Driver: sarifDriver{Name: "leakwatch", Version: opts.toolVersion(), Rules: rules}},
			Invocations: []sarifInvocation{{ExecutionSuccessful: true}},
			Results:     results,
		}},
	}
}

// protectedSARIFResults renders f's results and checks that they encode;
// if either fails, f is represented by the results of its error record
// (rule LW006 or its status rule, flag write-error), so one finding can
// neither stop the log nor make it fail to encode.
func protectedSARIFResults(f *finding.Finding) []sarifResult {
	var rs []sarifResult
	err := protect(f, func() error {
		rs = sarifResults(*f)
		_, err := json.Marshal(rs)
		return err
	})
	if err == nil {
		return rs
	}
	ef := errorFinding(f, err)
	if protect(&ef, func() error {
		rs = sarifResults(ef)
		_, err := json.Marshal(rs)
		return err
	}) != nil {
		return nil
	}
	return rs
}

// statusRule picks the rule for a finding's status.
func statusRule(f finding.Finding) string {
	switch {
	case f.Target.IsFile():
		return sarifFileRule.ID
	case f.Status == finding.StatusExposed && f.Auth == finding.AuthDefaultCredentials:
		return "LW005"
	case f.Status == finding.StatusExposed:
		return "LW001"
	case f.Status == finding.StatusProtected:
		return "LW002"
	}
	return "LW006"
}

// sarifLevel maps severity: critical/high → error, medium → warning,
// low/info → note.
func sarifLevel(s finding.Severity) string {
	switch s {
	case finding.SeverityCritical, finding.SeverityHigh:
		return "error"
	case finding.SeverityMedium:
		return "warning"
	}
	return "note"
}

// targetURI is tcp://host:port (the address that answered), or the file's
// URI for a file target.
func targetURI(t finding.Target) string {
	if t.IsFile() {
		return fileURI(t)
	}
	return "tcp://" + t.Addr()
}

// artifactURI is the relative, scheme-less stand-in for the service that
// GitHub code scanning accepts: it rejects absolute URIs whose scheme is
// not the checkout's (file), and needs a non-empty artifactLocation.uri
// and region.startLine to show an alert at all. A file target is its own
// artifact: its file URI.
func artifactURI(t finding.Target) string {
	if t.IsFile() {
		return fileURI(t)
	}
	return "tcp/" + url.PathEscape(t.Addr())
}

// fileURI is file:///abs/path with every byte a URI may not hold raw
// (controls, spaces, '%', '?', '#', non-ASCII) percent-encoded; a path that
// is not absolute stays a relative reference; stdin is "stdin".
func fileURI(t finding.Target) string {
	switch {
	case t.Path == finding.StdinPath:
		return "stdin"
	case strings.HasPrefix(t.Path, "/"):
		return (&url.URL{Scheme: "file", Path: t.Path}).String()
	}
	return (&url.URL{Path: t.Path}).String()
}

// sarifWhere names where a finding is, for messages: "elasticsearch
// (opensearch 2.19.6) at tcp://127.0.0.5:9200", or "the file file:///…".
func sarifWhere(f finding.Finding) string {
	if f.Target.IsFile() {
		return "the file " + targetURI(f.Target)
	}
	return sarifService(f) + " at " + targetURI(f.Target)
}

func sarifResults(f finding.Finding) []sarifResult {
	base := sarifResult{
		Level: sarifLevel(f.Severity),
		Locations: []sarifLocation{{
			PhysicalLocation: sarifPhysicalLocation{
				ArtifactLocation: sarifArtifactLocation{URI: artifactURI(f.Target)},
				Region:           sarifRegion{StartLine: 1},
			},
			LogicalLocations: []sarifLogicalLocation{{
				Name:               f.Target.Name(),
				FullyQualifiedName: targetURI(f.Target),
				Kind:               "resource",
			}},
		}},
		Properties: sarifProps(f),
	}
	id := Normalize(f).ID
	base.PartialFingerprints = map[string]string{sarifFingerprintKey: id}
	base.Properties.FindingID = id

	out := []sarifResult{withRule(base, statusRule(f), sarifStatusMessage(f))}
	if f.Status != finding.StatusExposed {
		return out
	}
	for _, fr := range flagRules {
		if slices.Contains(f.Flags, fr.flag) {
			out = append(out, withRule(base, fr.rule, sarifFlagMessage(f, fr.flag)))
		}
	}
	return out
}

// sarifHistoryKey names the partial fingerprint of one exposure: the
// finding id and the time it was first seen open, stable for as long as
// the history keeps the finding.
const sarifHistoryKey = "leakwatchExposure/v1"

// withHistory adds the exposure window to a result.
func withHistory(r *sarifResult, h History) {
	last := h.LastSeenOpen
	if last.IsZero() {
		last = h.FirstSeen
	}
	r.Provenance = &sarifProvenance{
		FirstDetectionTimeUTC: h.FirstSeen.UTC().Format(time.RFC3339Nano),
		LastDetectionTimeUTC:  last.UTC().Format(time.RFC3339Nano),
	}
	fp := make(map[string]string, len(r.PartialFingerprints)+1)
	for k, v := range r.PartialFingerprints {
		fp[k] = v
	}
	fp[sarifHistoryKey] = r.Properties.FindingID + "@" + h.FirstSeen.UTC().Format(time.RFC3339Nano)
	r.PartialFingerprints = fp
	r.Properties.Lifecycle = h.Status
	if !h.ClosedAt.IsZero() {
		r.Properties.ClosedAt = h.ClosedAt.UTC().Format(time.RFC3339Nano)
	}
}

func withRule(r sarifResult, rule, text string) sarifResult {
	r.RuleID = rule
	r.RuleIndex = sarifRuleIndex(rule)
	r.Message = sarifMessage{Text: text}
	return r
}

// sarifService is "elasticsearch (opensearch 2.19.6)".
func sarifService(f finding.Finding) string {
	s := f.Service
	if pv := productVersion(f); pv != "" {
		s += " (" + pv + ")"
	}
	return s
}

func sarifStatusMessage(f finding.Finding) string {
	where := sarifWhere(f)
	var b strings.Builder
	switch {
	case f.Target.IsFile():
		b.WriteString("Local file " + targetURI(f.Target) + ": " + datasetSummary(f))
		if cs := classSummary(f, 6); cs != "" {
			b.WriteString(" Data classes (estimated records): " + cs + ".")
		} else {
			b.WriteString(" No data class found.")
		}
		if f.Error != "" {
			b.WriteString(" " + f.Error + ".")
		}
		fmt.Fprintf(&b, " Severity: %s.", f.Severity)
		return b.String()
	}
	switch f.Status {
	case finding.StatusExposed:
		how := "without credentials"
		if f.Auth == finding.AuthDefaultCredentials {
			how = "with well-known default credentials"
		}
		fmt.Fprintf(&b, "Open data store: %s gives its data %s.", where, how)
		b.WriteString(" " + datasetSummary(f))
		if cs := classSummary(f, 6); cs != "" {
			b.WriteString(" Data classes (estimated records): " + cs + ".")
		}
	case finding.StatusProtected:
		fmt.Fprintf(&b, "%s is reachable and demands credentials.", where)
	default:
		fmt.Fprintf(&b, "%s answered, but whether it is open could not be decided", where)
		if f.Error != "" {
			b.WriteString(": " + f.Error)
		}
		b.WriteString(".")
	}
	if f.Status != finding.StatusUnknown && slices.Contains(f.Flags, FlagWriteError) {
		b.WriteString(" Finding " + f.ID + " " + f.Error + ".")
	}
	fmt.Fprintf(&b, " Severity: %s.", f.Severity)
	return b.String()
}

func sarifFlagMessage(f finding.Finding, flag string) string {
	where := sarifWhere(f)
	var names []string
	for _, d := range f.Datasets {
		if slices.Contains(d.Flags, flag) {
			names = append(names, d.Name)
		}
	}
	var msg string
	switch {
	case f.Target.IsFile() && flag == "canary":
		msg = "A canary record is in " + where + ": data meant to stay private was copied there."
	case f.Target.IsFile():
		msg = sarifRuleByID(flagRule(flag)).Short + ", in " + where + "."
	case flag == "ransom-note":
		msg = "Ransom note in the open data store " + where + ": its data has likely been taken or wiped."
	case flag == "code-execution":
		msg = "The open service " + where + " lets anyone run code."
	default:
		msg = "A canary record was read from the open data store " + where + "."
	}
	if len(names) > 0 {
		msg += " Datasets: " + strings.Join(names, ", ") + "."
	}
	return msg
}

// datasetSummary: "3 datasets, 2.40M records."
func datasetSummary(f finding.Finding) string {
	if len(f.Datasets) == 0 {
		return "No datasets listed."
	}
	total, unknown := recordTotals(f)
	s := plural(len(f.Datasets), "dataset", "datasets") + ", " + plural64(total, "record", "records")
	if unknown {
		s += " (some datasets without a count)"
	}
	return s + "."
}

// classSummary: "email ~2.39M, username ~2.40M" for the top n classes.
func classSummary(f finding.Finding, n int) string {
	ts := classTotals(f)
	var parts []string
	for i, t := range ts {
		if i == n {
			parts = append(parts, fmt.Sprintf("+%d more", len(ts)-n))
			break
		}
		if t.Known {
			parts = append(parts, t.Class+" ~"+humanCountPrecise(t.Records))
		} else {
			parts = append(parts, fmt.Sprintf("%s %d/%d sampled", t.Class, t.Matched, t.Sampled))
		}
	}
	return strings.Join(parts, ", ")
}

func sarifProps(f finding.Finding) sarifResultProps {
	total, _ := recordTotals(f)
	p := sarifResultProps{
		Target:   targetURI(f.Target),
		Hostname: f.Target.Hostname,
		Service:  f.Service,
		Product:  f.Product,
		Version:  f.Version,
		Status:   f.Status,
		Auth:     f.Auth,
		Severity: f.Severity,
		Datasets: len(f.Datasets),
		Records:  total,
		Classes:  []sarifClassCount{},
		Flags:    f.Flags,
	}
	if !f.ObservedAt.IsZero() {
		p.ObservedAt = f.ObservedAt.UTC().Format(time.RFC3339)
	}
	for _, t := range classTotals(f) {
		c := sarifClassCount{Class: t.Class, Matched: t.Matched, Sampled: t.Sampled}
		if t.Known {
			c.EstimatedRecords = finding.Int64(t.Records)
		}
		p.Classes = append(p.Classes, c)
	}
	for _, d := range f.Datasets {
		dp := sarifDatasetProp{Name: d.Name, Kind: d.Kind, Records: d.Records, Classes: []string{}}
		for _, c := range d.Classes {
			dp.Classes = append(dp.Classes, c.Class)
		}
		p.DatasetsBy = append(p.DatasetsBy, dp)
	}
	return p
}
