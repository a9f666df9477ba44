package alert

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Webhook headers.
const (
	// HeaderSignature is "sha256=" + hex(HMAC-SHA256(secret, body)).
	HeaderSignature = "X-Leakwatch-Signature"
	// HeaderTimestamp is the send time in Unix seconds (also in the signed
	// body as sent_at); receivers should refuse old deliveries.
	HeaderTimestamp = "X-Leakwatch-Timestamp"
	// HeaderEvent is the event kind (opened, changed, closed, reopened).
	HeaderEvent = "X-Leakwatch-Event"
	// HeaderDelivery is the alert's dedup key, the same on every retry.
	HeaderDelivery = "X-Leakwatch-Delivery"
)

// Webhook posts alerts as signed JSON (the Alert type, schema
// leakwatch.alert/v1).
type Webhook struct {
	name   string
	url    string
	secret []byte
	client *http.Client
	retry  Retry
	now    func() time.Time
}

// WebhookOptions configure a Webhook.
type WebhookOptions struct {
	Name   string
	URL    string
	Secret string
	// Timeout bounds one try (default 10s).
	Timeout time.Duration
	Retry   Retry
}

// NewWebhook makes a webhook notifier.
func NewWebhook(o WebhookOptions) *Webhook {
	return &Webhook{
		name: o.Name, url: o.URL, secret: []byte(o.Secret),
		client: newHTTPClient(o.Timeout), retry: o.Retry, now: time.Now,
	}
}

var _ Notifier = (*Webhook)(nil)

func (w *Webhook) Name() string { return w.name }
func (w *Webhook) Kind() string { return "webhook" }

// Notify posts the alert; each try is signed afresh with its own sent_at.
func (w *Webhook) Notify(ctx context.Context, a Alert) error {
	err := post(ctx, w.client, w.retry, request{
		url: w.url,
		build: func() ([]byte, http.Header, error) {
			a.SentAt = w.now().UTC().Truncate(time.Millisecond)
			body, err := json.Marshal(a)
			if err != nil {
				return nil, nil, fmt.Errorf("encode: %w", err)
			}
			h := http.Header{}
			h.Set(HeaderSignature, Sign(w.secret, body))
			h.Set(HeaderTimestamp, strconv.FormatInt(a.SentAt.Unix(), 10))
			h.Set(HeaderEvent, string(a.Event))
			h.Set(HeaderDelivery, a.DedupKey)
			return body, h, nil
		},
	})
	if err != nil {
		return fmt.Errorf("webhook %s: %w", w.name, err)
	}
	return nil
}

// Sign is the X-Leakwatch-Signature value of body.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a signature header in constant time (for receivers and
// tests).
func Verify(secret, body []byte, header string) bool {
	got, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return false
	}
	sig, err := hex.DecodeString(got)
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return hmac.Equal(sig, m.Sum(nil))
}
