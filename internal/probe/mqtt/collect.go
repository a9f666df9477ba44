package mqtt

import (
	"sort"
	"strings"

	"github.com/leakwatch/leakwatch/internal/classify"
	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
)

// sysEvidence maps broker $SYS topics to evidence keys (broker facts, not
// client data).
var sysEvidence = map[string]string{
	"$SYS/broker/version":                     "broker_version",
	"$SYS/broker/uptime":                      "uptime",
	"$SYS/broker/clients/connected":           "clients_connected",
	"$SYS/broker/clients/total":               "clients_total",
	"$SYS/broker/retained messages/count":     "retained_messages",
	"$SYS/broker/subscriptions/count":         "subscriptions",
	"$SYS/broker/messages/stored":             "messages_stored",
	"$SYS/broker/store/messages/count":        "store_messages",
	"$SYS/broker/store/messages/bytes":        "store_bytes",
	"$SYS/broker/load/messages/received/1min": "messages_received_1min",
}

// group is one dataset: the topics matching one pattern.
type group struct {
	name     string
	retained int64
	live     int64
	bytes    int64
	sample   []classify.Record
	sbytes   int64
	// cut is the flag for payloads left out for the byte budget, if any.
	cut string
}

// collector sorts received messages into topic groups within budgets.
type collector struct {
	b         probe.Budget
	groups    map[string]*group
	sys       map[string]string
	messages  int
	bytes     int64
	truncated bool
}

func newCollector(b probe.Budget) *collector {
	return &collector{b: b, groups: map[string]*group{}, sys: map[string]string{}}
}

// add files one message; false when the window's caps are reached.
func (c *collector) add(m message) bool {
	c.messages++
	c.bytes += int64(len(m.payload))
	if c.messages > maxMessages || c.bytes > maxWindowBytes {
		c.truncated = true
		return false
	}
	if strings.HasPrefix(m.topic, "$SYS/") {
		if k, ok := sysEvidence[m.topic]; ok && len(m.payload) <= 256 {
			c.sys[k] = strings.ToValidUTF8(string(m.payload), "")
		}
		return true
	}
	name := topicPattern(m.topic)
	g := c.groups[name]
	if g == nil {
		if len(c.groups) >= c.b.MaxListed {
			c.truncated = true
			return true
		}
		g = &group{name: name}
		c.groups[name] = g
	}
	if m.retain {
		g.retained++
	} else {
		g.live++
	}
	g.bytes += int64(len(m.payload))
	if len(g.sample) < c.b.SampleRecords && g.sbytes+int64(len(m.payload)) <= c.b.SampleBytes && len(m.payload) > 0 {
		rec := toRecord(m.topic, name, m.payload)
		g.sample = append(g.sample, rec)
		g.sbytes += int64(len(m.payload))
	} else if len(g.sample) < c.b.SampleRecords && len(m.payload) > 0 {
		// Left out for the byte budget: said, not hidden.
		if int64(len(m.payload)) > c.b.SampleBytes {
			g.cut = probe.FlagRecordTooLarge
		} else if g.cut == "" {
			g.cut = probe.FlagSampleTruncated
		}
	}
	return true
}

// finish writes the evidence and datasets into res: groups largest first,
// samples kept for the first MaxDatasets only.
func (c *collector) finish(res *probe.Result, b probe.Budget) {
	for k, v := range c.sys {
		res.AddEvidence(k, v)
	}
	if v := c.sys["broker_version"]; v != "" {
		res.Product, res.Version = productFromVersion(v)
	}
	if c.truncated {
		res.AddFlag("window-truncated")
	}
	gs := make([]*group, 0, len(c.groups))
	for _, g := range c.groups {
		gs = append(gs, g)
	}
	sort.Slice(gs, func(i, j int) bool {
		if gs[i].retained+gs[i].live != gs[j].retained+gs[j].live {
			return gs[i].retained+gs[i].live > gs[j].retained+gs[j].live
		}
		return gs[i].name < gs[j].name
	})
	for i, g := range gs {
		ds := probe.Dataset{}
		ds.Name, ds.Kind = g.name, "topic"
		if !c.truncated {
			ds.Records = finding.Int64(g.retained)
		}
		ds.Bytes = finding.Int64(g.bytes)
		if g.live > 0 {
			ds.Flags = append(ds.Flags, "live-messages")
		}
		if i < b.MaxDatasets {
			ds.Sample, ds.Sampled = g.sample, len(g.sample)
			if g.cut != "" {
				ds.AddFlag(g.cut)
			}
		}
		res.Datasets = append(res.Datasets, ds)
	}
}

// toRecord flattens one payload: JSON gives its fields, anything else sits
// under the topic pattern. The raw topic is kept under "_topic" so the
// classifier also sees data carried in topic names (device ids, emails).
func toRecord(topic, pattern string, payload []byte) classify.Record {
	return probe.KeyRecord("_topic", topic, pattern, strings.ToValidUTF8(string(payload), ""))
}

// topicPattern replaces variable topic levels (holding digits or long ids)
// with the single-level wildcard: "home/42/temp" → "home/+/temp".
func topicPattern(topic string) string { return probe.KeyPattern{Seps: "/", Wildcard: "+"}.Of(topic) }
