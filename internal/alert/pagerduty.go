package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/lifecycle"
)

// PagerDuty sends Events API v2 events: opened, changed and reopened
// trigger (or update) an incident, closed resolves it. The dedup_key is the
// finding id, so one finding is one incident across its lifecycle.
type PagerDuty struct {
	name       string
	url        string
	routingKey string
	client     *http.Client
	retry      Retry
}

// PagerDutyOptions configure a PagerDuty notifier.
type PagerDutyOptions struct {
	Name       string
	RoutingKey string
	// URL is the enqueue endpoint (PagerDuty's is
	// https://events.pagerduty.com/v2/enqueue); required.
	URL     string
	Timeout time.Duration
	Retry   Retry
}

// NewPagerDuty makes a PagerDuty notifier.
func NewPagerDuty(o PagerDutyOptions) *PagerDuty {
	return &PagerDuty{name: o.Name, url: o.URL, routingKey: o.RoutingKey, client: newHTTPClient(o.Timeout), retry: o.Retry}
}

var _ Notifier = (*PagerDuty)(nil)

func (p *PagerDuty) Name() string { return p.name }
func (p *PagerDuty) Kind() string { return "pagerduty" }

// PDEvent is an Events API v2 event.
type PDEvent struct {
	RoutingKey  string     `json:"routing_key"`
	EventAction string     `json:"event_action"`
	DedupKey    string     `json:"dedup_key"`
	Payload     *PDPayload `json:"payload,omitempty"`
	Client      string     `json:"client,omitempty"`
}

// PDPayload is the event's payload (trigger only).
type PDPayload struct {
	Summary       string         `json:"summary"`
	Source        string         `json:"source"`
	Severity      string         `json:"severity"`
	Timestamp     string         `json:"timestamp,omitempty"`
	Component     string         `json:"component,omitempty"`
	Group         string         `json:"group,omitempty"`
	Class         string         `json:"class,omitempty"`
	CustomDetails map[string]any `json:"custom_details,omitempty"`
}

// PagerDutyEvent renders an alert as an Events API v2 event.
func PagerDutyEvent(routingKey string, a Alert) PDEvent {
	ev := PDEvent{RoutingKey: routingKey, DedupKey: a.Finding.ID, Client: "leakwatch"}
	if a.Event == lifecycle.EventClosed {
		ev.EventAction = "resolve"
		return ev
	}
	ev.EventAction = "trigger"
	f := a.Finding
	details := map[string]any{
		"event": a.Event, "finding_id": f.ID, "status": f.Status, "auth": f.Auth,
		"records": f.Records, "datasets": f.Datasets, "classes": f.Classes,
		"first_seen": f.FirstSeen, "delivery": a.DedupKey,
	}
	if f.Product != "" {
		details["product"] = f.Product + " " + f.Version
	}
	if a.Diff != nil {
		details["change"] = a.Diff.Summary()
	}
	if a.Incident != nil {
		details["incident"] = a.Incident.Summary(a.Event)
	}
	if a.Owner != "" {
		details["owner"] = a.Owner
	}
	if a.Team != "" {
		details["team"] = a.Team
	}
	ev.Payload = &PDPayload{
		Summary:       trunc(a.Summary, 1024),
		Source:        f.Target.Addr(),
		Severity:      pdSeverity(f.Severity),
		Timestamp:     a.At.UTC().Format(time.RFC3339Nano),
		Component:     f.Service,
		Group:         a.Scope,
		Class:         "exposed-data-store",
		CustomDetails: details,
	}
	return ev
}

// pdSeverity maps to critical, error, warning or info.
func pdSeverity(s finding.Severity) string {
	switch s {
	case finding.SeverityCritical:
		return "critical"
	case finding.SeverityHigh:
		return "error"
	case finding.SeverityMedium, finding.SeverityLow:
		return "warning"
	}
	return "info"
}

// Notify sends the event; 202 with status "success" is success.
func (p *PagerDuty) Notify(ctx context.Context, a Alert) error {
	body, err := json.Marshal(PagerDutyEvent(p.routingKey, a))
	if err != nil {
		return fmt.Errorf("pagerduty %s: encode: %w", p.name, err)
	}
	err = post(ctx, p.client, p.retry, request{
		url:   p.url,
		build: func() ([]byte, http.Header, error) { return body, http.Header{}, nil },
		ok: func(_ int, rb []byte) error {
			var r struct {
				Status  string `json:"status"`
				Message string `json:"message"`
			}
			if json.Unmarshal(rb, &r) == nil && r.Status != "" && r.Status != "success" {
				return &PermanentError{fmt.Errorf("status %q: %s", r.Status, r.Message)}
			}
			return nil
		},
	})
	if err != nil {
		return fmt.Errorf("pagerduty %s: %w", p.name, err)
	}
	return nil
}
