package nats

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"

	"github.com/leakwatch/leakwatch/internal/probe"
)

// maxMonitorBody bounds one monitoring response.
const maxMonitorBody = 1 << 20

// varz is the part of /varz kept as evidence.
type varz struct {
	ServerID         string `json:"server_id"`
	Version          string `json:"version"`
	Connections      int    `json:"connections"`
	TotalConnections int64  `json:"total_connections"`
	InMsgs           int64  `json:"in_msgs"`
	OutMsgs          int64  `json:"out_msgs"`
	Subscriptions    int64  `json:"subscriptions"`
	Mem              int64  `json:"mem"`
}

// connz is the part of /connz kept (counts only: the list itself holds
// client addresses and names).
type connz struct {
	NumConnections int `json:"num_connections"`
	Total          int `json:"total"`
}

// monitor reads /varz and /connz from the monitoring port of the same host
// when it answers; nothing is recorded when it does not.
func monitor(ctx context.Context, env *probe.Env, port int, res *probe.Result) {
	c := &http.Client{
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return env.DialPort(ctx, port)
			},
			ResponseHeaderTimeout: env.Budget.IOTimeout,
			DisableCompression:    true,
			MaxIdleConnsPerHost:   1,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	defer c.CloseIdleConnections()
	base := "http://" + net.JoinHostPort(env.Target.Addr.String(), strconv.Itoa(port))
	var v varz
	if err := getJSON(ctx, c, base+"/varz", &v); err != nil || v.ServerID == "" {
		return
	}
	res.AddFlag("monitoring-open")
	res.AddEvidence("monitor_port", port)
	res.AddEvidence("varz_connections", v.Connections)
	res.AddEvidence("varz_total_connections", v.TotalConnections)
	res.AddEvidence("varz_in_msgs", v.InMsgs)
	res.AddEvidence("varz_out_msgs", v.OutMsgs)
	res.AddEvidence("varz_subscriptions", v.Subscriptions)
	var cz connz
	if getJSON(ctx, c, base+"/connz?limit=1", &cz) == nil {
		res.AddEvidence("connz_connections", cz.NumConnections)
	}
}

// getJSON fetches and decodes one bounded JSON document.
func getJSON(ctx context.Context, c *http.Client, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "leakwatch")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	body, _, err := probe.ReadLimited(resp.Body, maxMonitorBody)
	if err != nil {
		return err
	}
	return json.Unmarshal(body, v)
}
