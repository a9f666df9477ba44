package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/leakwatch/leakwatch/internal/lifecycle"
)

// Slack posts alerts to a Slack incoming webhook (text + Block Kit blocks).
type Slack struct {
	name   string
	url    string
	client *http.Client
	retry  Retry
}

// SlackOptions configure a Slack notifier.
type SlackOptions struct {
	Name    string
	URL     string
	Timeout time.Duration
	Retry   Retry
}

// NewSlack makes a Slack notifier.
func NewSlack(o SlackOptions) *Slack {
	return &Slack{name: o.Name, url: o.URL, client: newHTTPClient(o.Timeout), retry: o.Retry}
}

var _ Notifier = (*Slack)(nil)

func (s *Slack) Name() string { return s.name }
func (s *Slack) Kind() string { return "slack" }

// Notify posts the alert.
func (s *Slack) Notify(ctx context.Context, a Alert) error {
	body, err := json.Marshal(SlackPayload(a))
	if err != nil {
		return fmt.Errorf("slack %s: encode: %w", s.name, err)
	}
	err = post(ctx, s.client, s.retry, request{
		url:   s.url,
		build: func() ([]byte, http.Header, error) { return body, http.Header{}, nil },
	})
	if err != nil {
		return fmt.Errorf("slack %s: %w", s.name, err)
	}
	return nil
}

// SlackMessage is an incoming-webhook payload.
type SlackMessage struct {
	Text   string       `json:"text"`
	Blocks []SlackBlock `json:"blocks"`
}

// SlackBlock is one Block Kit block (header, section, context).
type SlackBlock struct {
	Type     string      `json:"type"`
	Text     *SlackText  `json:"text,omitempty"`
	Fields   []SlackText `json:"fields,omitempty"`
	Elements []SlackText `json:"elements,omitempty"`
}

// SlackText is a text object.
type SlackText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

var slackEmoji = map[lifecycle.EventKind]string{
	lifecycle.EventOpened: ":rotating_light:", lifecycle.EventReopened: ":rotating_light:",
	lifecycle.EventChanged: ":warning:", lifecycle.EventClosed: ":white_check_mark:",
	lifecycle.EventDestroyed: ":fire:", lifecycle.EventExtortion: ":skull:", lifecycle.EventCanary: ":bird:",
}

// SlackPayload renders an alert for Slack.
func SlackPayload(a Alert) SlackMessage {
	f := a.Finding
	md := func(s string) SlackText { return SlackText{Type: "mrkdwn", Text: s} }
	fields := []SlackText{
		md("*Target*\n`" + esc(f.Target.Addr()) + "`"),
		md("*Service*\n" + esc(strings.TrimSpace(f.Service+" "+f.Product+" "+f.Version))),
		md("*Severity*\n" + esc(string(f.Severity))),
		md(fmt.Sprintf("*Exposes*\n%d datasets, %s records", f.Datasets, lifecycle.Count(f.Records))),
	}
	if len(f.Classes) > 0 {
		fields = append(fields, md("*Classes*\n"+esc(join(f.Classes))))
	}
	if !f.FirstSeen.IsZero() {
		fields = append(fields, md("*First seen*\n"+f.FirstSeen.UTC().Format(time.RFC3339)))
	}
	if !f.ClosedAt.IsZero() {
		fields = append(fields, md("*Closed at*\n"+f.ClosedAt.UTC().Format(time.RFC3339)))
	}
	ctx := "finding `" + esc(f.ID) + "`"
	if a.Scope != "" {
		ctx += " · scope " + esc(a.Scope)
	}
	if a.Owner != "" {
		ctx += " · owner " + esc(a.Owner)
	}
	if a.Team != "" {
		ctx += " · team " + esc(a.Team)
	}
	return SlackMessage{
		Text: slackEmoji[a.Event] + " " + a.Title(),
		Blocks: []SlackBlock{
			{Type: "header", Text: &SlackText{Type: "plain_text", Text: trunc(a.Title(), 150)}},
			{Type: "section", Text: ptr(md(esc(trunc(a.Summary, 2900))))},
			{Type: "section", Fields: fields},
			{Type: "context", Elements: []SlackText{md(ctx)}},
		},
	}
}

func ptr[T any](v T) *T { return &v }

// esc escapes Slack mrkdwn control characters.
func esc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func trunc(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
