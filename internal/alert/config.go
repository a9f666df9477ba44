package alert

import (
	"fmt"

	"github.com/leakwatch/leakwatch/internal/config"
	"github.com/leakwatch/leakwatch/internal/lifecycle"
	"github.com/leakwatch/leakwatch/internal/store"
)

// FromConfig builds the configured notifiers.
func FromConfig(c *config.Config) ([]Notifier, error) {
	var out []Notifier
	for _, n := range c.Notifiers {
		switch {
		case n.Webhook != nil:
			out = append(out, NewWebhook(WebhookOptions{Name: n.Name, URL: n.Webhook.URL.Value, Secret: n.Webhook.Secret.Value, Timeout: n.Timeout.D}))
		case n.Slack != nil:
			out = append(out, NewSlack(SlackOptions{Name: n.Name, URL: n.Slack.URL.Value, Timeout: n.Timeout.D}))
		case n.Email != nil:
			e := n.Email
			out = append(out, NewEmail(EmailOptions{
				Name: n.Name, Host: e.Host, Port: e.Port, From: e.From, To: e.To,
				Username: e.Username, Password: e.Password.Value, TLS: e.TLS, Timeout: 3 * n.Timeout.D,
			}))
		case n.PagerDuty != nil:
			out = append(out, NewPagerDuty(PagerDutyOptions{Name: n.Name, RoutingKey: n.PagerDuty.RoutingKey.Value, URL: n.PagerDuty.URL.Value, Timeout: n.Timeout.D}))
		default:
			return nil, fmt.Errorf("alert: notifier %q has no kind", n.Name)
		}
	}
	return out, nil
}

// Route is the alert policy as a store route function: an event of a
// scope goes to every notifier routed from that scope (scopes[].notify,
// default all) that wants its kind and severity. The outbox then holds one
// alert per event and notifier.
func Route(c *config.Config) store.RouteFunc {
	return func(ev lifecycle.Event, scope string) []string {
		var routes []string
		for _, n := range c.NotifiersFor(scope) {
			if n.Wants(string(ev.Kind), string(ev.Severity)) {
				routes = append(routes, n.Name)
			}
		}
		return routes
	}
}

// ScopeInfoFunc gives the owner, team and tags of configured scopes.
func ScopeInfoFunc(c *config.Config) func(string) ScopeInfo {
	return func(name string) ScopeInfo {
		s := c.Scope(name)
		if s == nil {
			return ScopeInfo{Name: name}
		}
		return ScopeInfo{Name: s.Name, Owner: s.Owner, Team: s.Team, Tags: s.Tags}
	}
}
