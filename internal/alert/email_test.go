package alert

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"mime/quotedprintable"
	"net/mail"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/lifecycle"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

// messages waits for n messages in the mbox and parses them.
func messages(t *testing.T, m *testenv.Exim, n int) []*mail.Message {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		b, _ := os.ReadFile(m.Mailbox)
		parts := splitMbox(b)
		if len(parts) >= n {
			var out []*mail.Message
			for _, p := range parts {
				msg, err := mail.ReadMessage(bytes.NewReader(p))
				if err != nil {
					t.Fatalf("parse delivered message: %v\n%s", err, p)
				}
				out = append(out, msg)
			}
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("mailbox holds %d messages after 15s, want %d", len(parts), n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// splitMbox splits an mbox file at its "From " separator lines.
func splitMbox(b []byte) [][]byte {
	var out [][]byte
	for _, chunk := range bytes.Split(b, []byte("\nFrom ")) {
		if i := bytes.IndexByte(chunk, '\n'); i >= 0 && len(bytes.TrimSpace(chunk)) > 0 {
			out = append(out, chunk[i+1:])
		}
	}
	return out
}

func body(t *testing.T, m *mail.Message) string {
	t.Helper()
	b, err := io.ReadAll(quotedprintable.NewReader(m.Body))
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(string(b), "\r\n", "\n")
}

func TestEmailToRealMTA(t *testing.T) {
	t.Parallel()
	m := testenv.StartExim(t, testenv.EximOptions{})
	e := NewEmail(EmailOptions{
		Name: "mail", Host: m.Addr.String(), Port: m.Port, TLS: TLSStartTLS,
		From: "leakwatch <leakwatch@example.org>", To: []string{"Security <security@example.org>", "ops@example.org"},
	})
	open, closed := testAlert(lifecycle.EventOpened), testAlert(lifecycle.EventClosed)
	for _, a := range []Alert{open, closed} {
		if err := e.Notify(context.Background(), a); err != nil {
			t.Fatal(err)
		}
	}
	// Two recipients each: four deliveries into the one mailbox.
	msgs := messages(t, m, 4)
	subjects := map[string]int{}
	for _, msg := range msgs {
		subjects[msg.Header.Get("Subject")]++
	}
	wantOpen := "[leakwatch] [critical] opened: redis on 127.0.0.5:6379"
	wantClosed := "[leakwatch] [critical] closed: redis on 127.0.0.5:6379"
	if subjects[wantOpen] != 2 || subjects[wantClosed] != 2 {
		t.Errorf("subjects %v", subjects)
	}
	first := msgs[0]
	if first.Header.Get("X-Leakwatch-Event") != "opened" || first.Header.Get("X-Leakwatch-Finding") != open.Finding.ID || first.Header.Get(HeaderDelivery) != "dedup-opened" {
		t.Errorf("headers %v", first.Header)
	}
	if !strings.Contains(first.Header.Get("Received"), "Exim") {
		t.Errorf("not delivered by Exim? Received: %q", first.Header.Get("Received"))
	}
	b := body(t, first)
	for _, want := range []string{"opened: redis on 127.0.0.5:6379 is exposed", "Finding:   " + open.Finding.ID, "2 datasets, 2,412 records", "Classes:   email", "database db0: 2,400 records (email)", "Scope:     lab, owner alice@example.org, team platform"} {
		if !strings.Contains(b, want) {
			t.Errorf("body lacks %q:\n%s", want, b)
		}
	}
	assertNoRaw(t, "email body", []byte(b))
	var closedBody string
	for _, msg := range msgs {
		if msg.Header.Get("Subject") == wantClosed {
			closedBody = body(t, msg)
		}
	}
	if !strings.Contains(closedBody, "Closed at:") || !strings.Contains(closedBody, "proof: ") {
		t.Errorf("closed body:\n%s", closedBody)
	}
}

func TestEmailStartTLSAuth(t *testing.T) {
	t.Parallel()
	m := testenv.StartExim(t, testenv.EximOptions{TLS: true, User: "leakwatch", Password: "pa55-w0rd"})
	opts := EmailOptions{
		Name: "mail", Host: m.Addr.String(), Port: m.Port, TLS: TLSRequireStartTLS,
		TLSConfig: &tls.Config{RootCAs: m.CA, MinVersion: tls.VersionTLS12},
		From:      "leakwatch@example.org", To: []string{"security@example.org"},
		Username: "leakwatch", Password: "pa55-w0rd",
	}
	if err := NewEmail(opts).Notify(context.Background(), testAlert(lifecycle.EventOpened)); err != nil {
		t.Fatal(err)
	}
	msgs := messages(t, m, 1)
	if rcv := msgs[0].Header.Get("Received"); !strings.Contains(rcv, "TLS") && !strings.Contains(rcv, "esmtpsa") {
		t.Errorf("message not received over TLS with auth: %q", rcv)
	}
	// A wrong password is refused by the server: a permanent failure.
	opts.Password = "wrong"
	err := NewEmail(opts).Notify(context.Background(), testAlert(lifecycle.EventOpened))
	if err == nil || !IsPermanent(err) {
		t.Errorf("wrong password: %v (permanent %v)", err, IsPermanent(err))
	}
	// Without a trusted certificate, STARTTLS fails before any secret is sent.
	opts.Password, opts.TLSConfig = "pa55-w0rd", nil
	if err := NewEmail(opts).Notify(context.Background(), testAlert(lifecycle.EventOpened)); err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Errorf("untrusted certificate: %v", err)
	}
}

func TestEmailRequireStartTLSRefusesPlain(t *testing.T) {
	t.Parallel()
	m := testenv.StartExim(t, testenv.EximOptions{})
	e := NewEmail(EmailOptions{Name: "mail", Host: m.Addr.String(), Port: m.Port, TLS: TLSRequireStartTLS,
		From: "leakwatch@example.org", To: []string{"security@example.org"}})
	err := e.Notify(context.Background(), testAlert(lifecycle.EventOpened))
	if err == nil || !IsPermanent(err) || !strings.Contains(err.Error(), "STARTTLS") {
		t.Errorf("err %v", err)
	}
	// Relaying elsewhere is refused by the MTA: permanent (5xx).
	e = NewEmail(EmailOptions{Name: "mail", Host: m.Addr.String(), Port: m.Port, TLS: TLSNone,
		From: "leakwatch@example.org", To: []string{"someone@elsewhere.test"}})
	if err := e.Notify(context.Background(), testAlert(lifecycle.EventOpened)); !IsPermanent(err) {
		t.Errorf("relay: %v", err)
	}
}
