package output

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestHistoryWindow: with the monitoring history, SARIF results carry
// provenance first/last detection times and an exposure fingerprint that
// does not change between runs, and OCSF finding_info the same window;
// without it, neither appears. The log still validates.
func TestHistoryWindow(t *testing.T) {
	fs := fixtureFindings()
	first := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	last := time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC)
	closed := last.Add(10 * time.Second)
	id := Normalize(fs[0]).ID
	opts := Options{History: map[string]History{id: {FirstSeen: first, LastSeenOpen: last, ClosedAt: closed, Status: "closed"}}}

	out := render(t, FormatSARIF, opts, fs)
	validateSARIF(t, out)
	var log struct {
		Runs []struct {
			Results []struct {
				PartialFingerprints map[string]string `json:"partialFingerprints"`
				Provenance          *struct {
					First string `json:"firstDetectionTimeUtc"`
					Last  string `json:"lastDetectionTimeUtc"`
				} `json:"provenance"`
				Properties struct {
					FindingID string `json:"finding_id"`
					Lifecycle string `json:"lifecycle"`
					ClosedAt  string `json:"closed_at"`
				} `json:"properties"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(out, &log); err != nil {
		t.Fatal(err)
	}
	with, without := 0, 0
	for _, r := range log.Runs[0].Results {
		if r.Properties.FindingID != id {
			if r.Provenance != nil || r.PartialFingerprints[sarifHistoryKey] != "" {
				t.Errorf("result of %s without history carries a window", r.Properties.FindingID)
			}
			without++
			continue
		}
		with++
		if r.Provenance == nil || r.Provenance.First != "2026-11-01T08:00:00Z" || r.Provenance.Last != "2026-11-23T09:30:00Z" {
			t.Errorf("provenance %+v", r.Provenance)
		}
		if fp := r.PartialFingerprints[sarifHistoryKey]; fp != id+"@2026-11-01T08:00:00Z" || r.PartialFingerprints[sarifFingerprintKey] != id {
			t.Errorf("fingerprints %v", r.PartialFingerprints)
		}
		if r.Properties.Lifecycle != "closed" || r.Properties.ClosedAt != "2026-11-23T09:30:10Z" {
			t.Errorf("properties %+v", r.Properties)
		}
	}
	if with == 0 || without == 0 {
		t.Fatalf("results with history %d, without %d", with, without)
	}
	if again := render(t, FormatSARIF, opts, fs); string(again) != string(out) {
		t.Error("SARIF with history is not stable between runs")
	}

	ocsf := render(t, FormatOCSF, opts, fs)
	lines := strings.Split(strings.TrimSpace(string(ocsf)), "\n")
	seen := false
	for _, l := range lines {
		var ev struct {
			FindingInfo struct {
				UID   string `json:"uid"`
				First int64  `json:"first_seen_time"`
				Last  int64  `json:"last_seen_time"`
			} `json:"finding_info"`
		}
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatal(err)
		}
		if ev.FindingInfo.UID == id {
			seen = true
			if ev.FindingInfo.First != first.UnixMilli() || ev.FindingInfo.Last != last.UnixMilli() {
				t.Errorf("ocsf window %+v", ev.FindingInfo)
			}
		} else if ev.FindingInfo.First != 0 {
			t.Errorf("ocsf without history has first_seen_time: %+v", ev.FindingInfo)
		}
	}
	if !seen {
		t.Error("no OCSF event for the finding with history")
	}
}
