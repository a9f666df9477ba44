package alert

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"time"
)

// TLS modes of the email notifier.
const (
	TLSStartTLS        = "starttls"         // STARTTLS when the server offers it
	TLSRequireStartTLS = "require-starttls" // fail unless STARTTLS works
	TLSImplicit        = "tls"              // TLS from the first byte (port 465)
	TLSNone            = "none"             // never
)

// Email sends alerts as plain-text mail over SMTP.
type Email struct {
	o   EmailOptions
	now func() time.Time
}

// EmailOptions configure an Email notifier.
type EmailOptions struct {
	Name     string
	Host     string
	Port     int
	From     string
	To       []string
	Username string
	Password string
	// TLS is one of the TLS* modes (default starttls).
	TLS string
	// Timeout bounds the whole SMTP conversation (default 30s).
	Timeout time.Duration
	// TLSConfig overrides the TLS settings (tests: a private CA).
	TLSConfig *tls.Config
}

// NewEmail makes an email notifier.
func NewEmail(o EmailOptions) *Email {
	if o.TLS == "" {
		o.TLS = TLSStartTLS
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	return &Email{o: o, now: time.Now}
}

var _ Notifier = (*Email)(nil)

func (e *Email) Name() string { return e.o.Name }
func (e *Email) Kind() string { return "email" }

// Notify sends one message to all recipients. SMTP errors 5xx are permanent.
func (e *Email) Notify(ctx context.Context, a Alert) error {
	msg, err := e.Message(a)
	if err != nil {
		return fmt.Errorf("email %s: %w", e.o.Name, &PermanentError{err})
	}
	if err := e.send(ctx, msg); err != nil {
		return fmt.Errorf("email %s: %w", e.o.Name, err)
	}
	return nil
}

// send runs one SMTP conversation under the timeout and ctx.
func (e *Email) send(ctx context.Context, msg []byte) error {
	ctx, cancel := context.WithTimeout(ctx, e.o.Timeout)
	defer cancel()
	addr := net.JoinHostPort(e.o.Host, strconv.Itoa(e.o.Port))
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	tcfg := e.tlsConfig()
	if e.o.TLS == TLSImplicit {
		tc := tls.Client(conn, tcfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("tls: %w", err)
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, e.o.Host)
	if err != nil {
		return smtpErr("greeting", err)
	}
	defer c.Close()
	if err := c.Hello(helloName()); err != nil {
		return smtpErr("EHLO", err)
	}
	if e.o.TLS == TLSStartTLS || e.o.TLS == TLSRequireStartTLS {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(tcfg); err != nil {
				return smtpErr("STARTTLS", err)
			}
		} else if e.o.TLS == TLSRequireStartTLS {
			return &PermanentError{errors.New("server does not offer STARTTLS (tls: require-starttls)")}
		}
	}
	if e.o.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", e.o.Username, e.o.Password, e.o.Host)); err != nil {
			return smtpErr("AUTH", err)
		}
	}
	if err := c.Mail(addrOnly(e.o.From)); err != nil {
		return smtpErr("MAIL FROM", err)
	}
	for _, to := range e.o.To {
		if err := c.Rcpt(addrOnly(to)); err != nil {
			return smtpErr("RCPT TO", err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return smtpErr("DATA", err)
	}
	if _, err := w.Write(msg); err != nil {
		return smtpErr("DATA", err)
	}
	if err := w.Close(); err != nil {
		return smtpErr("end of DATA", err)
	}
	return smtpErr("QUIT", c.Quit())
}

func (e *Email) tlsConfig() *tls.Config {
	if e.o.TLSConfig != nil {
		c := e.o.TLSConfig.Clone()
		if c.ServerName == "" {
			c.ServerName = e.o.Host
		}
		return c
	}
	return &tls.Config{ServerName: e.o.Host, MinVersion: tls.VersionTLS12}
}

// smtpErr wraps an SMTP step's error; 5xx replies are permanent.
func smtpErr(step string, err error) error {
	if err == nil {
		return nil
	}
	err = fmt.Errorf("%s: %w", step, err)
	var te *textproto.Error
	if errors.As(err, &te) && te.Code >= 500 {
		return &PermanentError{err}
	}
	return err
}

func helloName() string { return "leakwatch.localhost" }

func addrOnly(s string) string {
	if a, err := mail.ParseAddress(s); err == nil {
		return a.Address
	}
	return s
}

// Message renders the alert as an RFC 5322 message (quoted-printable
// UTF-8 text).
func (e *Email) Message(a Alert) ([]byte, error) {
	from, err := mail.ParseAddress(e.o.From)
	if err != nil {
		return nil, fmt.Errorf("from: %w", err)
	}
	var to []string
	for _, t := range e.o.To {
		ta, err := mail.ParseAddress(t)
		if err != nil {
			return nil, fmt.Errorf("to: %w", err)
		}
		to = append(to, ta.String())
	}
	var b bytes.Buffer
	hdr := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	hdr("From", from.String())
	hdr("To", strings.Join(to, ", "))
	hdr("Subject", mime.QEncoding.Encode("utf-8", "[leakwatch] "+a.Title()))
	hdr("Date", e.now().Format(time.RFC1123Z))
	hdr("Message-ID", "<"+randomID()+"@leakwatch.localhost>")
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", "text/plain; charset=utf-8")
	hdr("Content-Transfer-Encoding", "quoted-printable")
	hdr("Auto-Submitted", "auto-generated")
	hdr("X-Leakwatch-Event", string(a.Event))
	hdr("X-Leakwatch-Finding", a.Finding.ID)
	if a.DedupKey != "" {
		hdr(HeaderDelivery, a.DedupKey)
	}
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	body := strings.ReplaceAll(a.Text(), "\n", "\r\n")
	if _, err := qp.Write([]byte(body)); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func randomID() string {
	var r [12]byte
	_, _ = rand.Read(r[:])
	return hex.EncodeToString(r[:])
}
