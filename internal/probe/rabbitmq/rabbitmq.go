// Package rabbitmq probes RabbitMQ: its management HTTP API (15672) and
// AMQP 0-9-1 (5672).
//
// Management API: identified by the 401 challenge `Basic realm="RabbitMQ
// Management"` on /api/overview (or the management UI's title). Without
// credentials it is protected; the well-known guest/guest account is tried
// (RabbitMQ limits guest to loopback peers by default, so it works where
// leakwatch runs on the broker's host or guest was opened up). Exposed
// needs two signals: /api/overview AND /api/queues answer. Datasets are
// queues ("vhost/queue", vhost "/" written as ""), records their message
// counts and bytes from the management statistics (refreshed every few
// seconds by the broker, so they may lag). Message bodies are not sampled:
// reading a message (basic.get, even with requeue) changes the queue
// (redelivered flag, order, delivery counters), and probes are read-only.
//
// AMQP: identified by the Connection.Start frame answering the protocol
// header (server properties give product and version). guest/guest is then
// tried (Start-Ok PLAIN); exposed needs Tune AND Open-Ok on vhost "/".
package rabbitmq

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
)

// Prober probes RabbitMQ.
type Prober struct{}

var _ probe.Prober = (*Prober)(nil)

// New returns a RabbitMQ prober.
func New() *Prober { return &Prober{} }

// Name implements probe.Prober.
func (*Prober) Name() string { return "rabbitmq" }

// HTTPBased implements probe.HTTPBased: the service answers HTTP.
func (*Prober) HTTPBased() {}

// DefaultPorts implements probe.Prober: AMQP and the management API.
func (*Prober) DefaultPorts() []int { return []int{5672, 15672} }

// The well-known default account.
const (
	defaultUser = "guest"
	defaultPass = "guest"
)

// queuePageSize is the page_size asked of /api/queues.
const queuePageSize = 500

// Probe implements probe.Prober. It speaks HTTP first: an AMQP broker
// answers an HTTP request at once with its protocol header, so the AMQP
// attempt costs nothing on HTTP ports and little on AMQP ports.
func (p *Prober) Probe(ctx context.Context, env *probe.Env) (*probe.Result, error) {
	h, resp, err := probe.DetectHTTP(ctx, env, "/api/overview")
	if err == nil {
		defer h.Close()
		return p.management(ctx, env, h, resp)
	}
	if ctx.Err() != nil || errors.Is(err, probe.ErrOutOfScope) {
		return nil, err
	}
	return p.amqp(ctx, env)
}

// management probes the management HTTP API.
func (p *Prober) management(ctx context.Context, env *probe.Env, h *probe.HTTP, resp *probe.HTTPResponse) (*probe.Result, error) {
	if !isManagement(ctx, h, resp) {
		return nil, probe.NotThisService("rabbitmq: HTTP %d without RabbitMQ management markers", resp.StatusCode)
	}
	res := &probe.Result{Product: "rabbitmq", TLS: h.Scheme() == "https", Status: finding.StatusUnknown, Auth: finding.AuthUnknown}
	res.AddEvidence("interface", "management-http")
	env.Provisional(res) // identified: reported even if a limit stops the rest
	auth := finding.AuthNone
	if resp.StatusCode == http.StatusUnauthorized {
		h.Header = http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(defaultUser+":"+defaultPass))}}
		var err error
		resp, err = h.Get(ctx, "/api/overview")
		if err != nil {
			res.AddErrorf("rabbitmq: overview: %v", err)
			return res, nil
		}
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			res.Status, res.Auth = finding.StatusProtected, finding.AuthRequired
			res.AddEvidence("default_credentials", "refused")
			return res, nil
		}
		auth = finding.AuthDefaultCredentials
	}
	if resp.StatusCode != http.StatusOK {
		res.AddEvidence("overview_status", resp.StatusCode)
		return res, nil
	}
	describeOverview(res, resp.Body)
	datasets, err := listQueues(ctx, h, res.Evidence, env.Budget.MaxListed)
	if err != nil {
		res.AddError(err)
		if _, listed := res.Evidence["queues_listed"]; !listed {
			return res, nil
		}
		// A later page failed: the pages read already proved access.
		res.Evidence["queues_truncated"] = true
	}
	if res.Evidence["queues_truncated"] == true {
		res.AddFlag(probe.FlagDatasetsTruncated)
	}
	// Two signals: the overview and the queue list answered.
	res.Status, res.Auth = finding.StatusExposed, auth
	if auth == finding.AuthDefaultCredentials {
		res.AddFlag("default-credentials")
		res.AddEvidence("default_user", defaultUser)
	}
	res.Datasets = datasets
	res.AddEvidence("sample", "skipped: reading messages would change queue state")
	return res, nil
}

// isManagement tells whether resp (to /api/overview) comes from the
// RabbitMQ management plugin.
func isManagement(ctx context.Context, h *probe.HTTP, resp *probe.HTTPResponse) bool {
	if strings.Contains(resp.Header.Get("Www-Authenticate"), "RabbitMQ") {
		return true
	}
	if resp.StatusCode == http.StatusOK {
		var o overview
		return json.Unmarshal(resp.Body, &o) == nil && (o.ManagementVersion != "" || o.RabbitMQVersion != "")
	}
	if resp.StatusCode != http.StatusUnauthorized {
		return false
	}
	// Newer releases may send 401 without a challenge: look at the UI.
	root, err := h.Do(ctx, http.MethodGet, "/", nil, "", 64<<10)
	return err == nil && root.StatusCode == http.StatusOK && strings.Contains(string(root.Body), "<title>RabbitMQ Management</title>")
}

// overview is the part of /api/overview leakwatch keeps.
type overview struct {
	ManagementVersion string `json:"management_version"`
	RabbitMQVersion   string `json:"rabbitmq_version"`
	ProductName       string `json:"product_name"`
	ProductVersion    string `json:"product_version"`
	ErlangVersion     string `json:"erlang_version"`
	ClusterName       string `json:"cluster_name"`
	Node              string `json:"node"`
	QueueTotals       struct {
		Messages *int64 `json:"messages"`
	} `json:"queue_totals"`
	ObjectTotals map[string]int64 `json:"object_totals"`
}

// describeOverview records version and totals.
func describeOverview(res *probe.Result, body []byte) {
	var o overview
	if err := json.Unmarshal(body, &o); err != nil {
		res.AddEvidence("overview_error", err.Error())
		return
	}
	res.Version = o.RabbitMQVersion
	if res.Version == "" {
		res.Version = o.ProductVersion
	}
	if o.ProductName != "" && !strings.EqualFold(o.ProductName, "RabbitMQ") {
		res.AddEvidence("product_name", o.ProductName)
	}
	for k, v := range map[string]string{"erlang_version": o.ErlangVersion, "cluster_name": o.ClusterName, "node": o.Node, "management_version": o.ManagementVersion} {
		if v != "" {
			res.AddEvidence(k, v)
		}
	}
	if o.QueueTotals.Messages != nil {
		res.AddEvidence("messages_total", *o.QueueTotals.Messages)
	}
	for _, k := range []string{"queues", "connections", "consumers", "exchanges"} {
		if v, ok := o.ObjectTotals[k]; ok {
			res.AddEvidence(k+"_total", v)
		}
	}
}

// queuePage is one page of /api/queues.
type queuePage struct {
	Items      []queueItem `json:"items"`
	PageCount  int         `json:"page_count"`
	TotalCount int64       `json:"total_count"`
}

// queueItem is one queue of a page.
type queueItem struct {
	Name         string `json:"name"`
	Vhost        string `json:"vhost"`
	Type         string `json:"type"`
	Messages     *int64 `json:"messages"`
	MessageBytes *int64 `json:"message_bytes"`
}

// parseQueuePage decodes one page of /api/queues. A page cut at the
// response cap keeps the queues read before the cut (cut reports it; the
// page count is then unknown).
func parseQueuePage(b []byte) (p *queuePage, cut bool, err error) {
	p = &queuePage{}
	if err := json.Unmarshal(b, p); err == nil {
		return p, false, nil
	}
	p = &queuePage{}
	cut, err = probe.EachJSON(b, func(it queueItem) bool {
		p.Items = append(p.Items, it)
		return true
	}, "items")
	if err != nil {
		return nil, false, fmt.Errorf("queues page: %w", err)
	}
	if !cut {
		return nil, false, errors.New("queues page: malformed")
	}
	return p, true, nil
}

// listQueues pages through /api/queues, at most max queues.
func listQueues(ctx context.Context, h *probe.HTTP, ev map[string]any, max int) ([]probe.Dataset, error) {
	var out []probe.Dataset
	for page := 1; len(out) < max; page++ {
		q := url.Values{
			"page":      {strconv.Itoa(page)},
			"page_size": {strconv.Itoa(min(queuePageSize, max))},
			"columns":   {"name,vhost,type,messages,message_bytes"},
		}
		resp, err := h.Get(ctx, "/api/queues?"+q.Encode())
		if err != nil {
			return out, fmt.Errorf("rabbitmq: queues: %w", err)
		}
		if resp.StatusCode != http.StatusOK {
			return out, fmt.Errorf("rabbitmq: queues: HTTP %d", resp.StatusCode)
		}
		p, cut, err := parseQueuePage(resp.Body)
		if err != nil {
			return out, fmt.Errorf("rabbitmq: %w", err)
		}
		if cut {
			ev["queues_truncated"] = true
			p.PageCount = page // no further pages: the cut one's count is unknown
		}
		for _, it := range p.Items {
			if len(out) >= max {
				break
			}
			d := probe.Dataset{}
			d.Name = strings.TrimSuffix(it.Vhost, "/") + "/" + it.Name
			d.Kind = "queue"
			d.Records, d.Bytes = it.Messages, it.MessageBytes
			out = append(out, d)
		}
		ev["queues_listed"] = len(out)
		if page >= p.PageCount || len(p.Items) == 0 {
			return out, nil
		}
	}
	return out, nil
}

// amqp probes an AMQP 0-9-1 listener.
func (p *Prober) amqp(ctx context.Context, env *probe.Env) (*probe.Result, error) {
	c, err := env.Dial(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if _, err := c.Write(protocolHeader); err != nil {
		return nil, fmt.Errorf("rabbitmq: write protocol header: %w", err)
	}
	f, err := readFrame(c)
	if err != nil {
		if probe.IsTimeout(err) {
			return nil, err
		}
		return nil, probe.NotThisService("rabbitmq: no AMQP 0-9-1 Connection.Start: %v", err)
	}
	st, err := parseStart(f)
	if err != nil {
		return nil, probe.NotThisService("rabbitmq: %v", err)
	}
	res := &probe.Result{Product: "amqp", Status: finding.StatusUnknown, Auth: finding.AuthUnknown}
	describeStart(res, st)
	env.Provisional(res) // identified: reported even if a limit stops the rest
	if !strings.Contains(" "+st.Mechanisms+" ", " PLAIN ") {
		res.Status, res.Auth = finding.StatusProtected, finding.AuthRequired
		return res, nil
	}
	ok, step, err := tryLogin(c, defaultUser, defaultPass)
	switch {
	case ok:
		// Two signals: the login was tuned and the vhost opened.
		res.Status, res.Auth = finding.StatusExposed, finding.AuthDefaultCredentials
		res.AddFlag("default-credentials")
		res.AddEvidence("default_user", defaultUser)
		res.AddEvidence("hint", "queues and counts are read from the management API (port 15672)")
	case step == "login":
		res.Status, res.Auth = finding.StatusProtected, finding.AuthRequired
		res.AddEvidence("default_credentials", "refused")
	default:
		res.AddErrorf("rabbitmq: amqp %s: %v", step, err)
	}
	return res, nil
}

// describeStart records the server properties of Connection.Start.
func describeStart(res *probe.Result, st *start) {
	str := func(k string) string {
		s, _ := st.Properties[k].(string)
		return s
	}
	if prod := str("product"); prod != "" {
		res.Product = strings.ToLower(prod)
	}
	res.Version = str("version")
	res.AddEvidence("interface", "amqp")
	res.AddEvidence("amqp_version", fmt.Sprintf("%d-%d", st.VersionMajor, st.VersionMinor))
	res.AddEvidence("mechanisms", st.Mechanisms)
	for _, k := range []string{"platform", "cluster_name"} {
		if v := str(k); v != "" {
			res.AddEvidence(k, v)
		}
	}
}

// tryLogin sends Start-Ok with PLAIN user/pass, then Tune-Ok and Open("/").
// step names where it stopped: "login" means the credentials were refused.
func tryLogin(c io.ReadWriter, user, pass string) (ok bool, step string, err error) {
	if _, err := c.Write(startOk(user, pass)); err != nil {
		return false, "start-ok", err
	}
	f, err := readFrame(c)
	if err != nil {
		if probe.IsTimeout(err) {
			return false, "tune", err
		}
		// Brokers that ignore authentication_failure_close just hang up.
		return false, "login", err
	}
	class, method, args, err := methodID(f)
	if err != nil {
		return false, "tune", err
	}
	if class == classConnection && method == methodClose {
		code, text := parseClose(args)
		return false, "login", fmt.Errorf("closed %d %s", code, text)
	}
	if class != classConnection || method != methodTune {
		return false, "tune", fmt.Errorf("method %d.%d, want Connection.Tune", class, method)
	}
	if _, err := c.Write(append(tuneOk(args), open("/")...)); err != nil {
		return false, "open", err
	}
	f, err = readFrame(c)
	if err != nil {
		return false, "open", err
	}
	class, method, args, err = methodID(f)
	if err != nil {
		return false, "open", err
	}
	if class != classConnection || method != methodOpenOk {
		code, text := parseClose(args)
		return false, "open", fmt.Errorf("method %d.%d (%d %s), want Connection.Open-Ok", class, method, code, text)
	}
	// Close politely; the answer does not matter.
	if _, err := c.Write(closeConn()); err == nil {
		_, _ = readFrame(c)
	}
	return true, "", nil
}
