package dashboard

import (
	"fmt"
	"html/template"
	"strconv"
	"strings"
	"time"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/lifecycle"
	"github.com/leakwatch/leakwatch/internal/store"
)

// ObsChart is a finding's observations over time: records (line) and the
// number of data classes (steps), on a 1000 × 200 canvas.
type ObsChart struct {
	Records    string // SVG points
	Classes    string
	Closed     []ChartMark // checks that saw it gone or protected
	MaxRecords int64
	MaxClasses int
	Ticks      []Tick
	N          int
}

// ChartMark is one marked check.
type ChartMark struct {
	X     float64
	Label string
}

const chartW, chartH = 1000.0, 200.0

func observationChart(obs []store.Observation, now time.Time) ObsChart {
	c := ObsChart{N: len(obs)}
	if len(obs) == 0 {
		return c
	}
	start, end := obs[0].At, obs[len(obs)-1].At
	if !end.After(start) {
		end = start.Add(time.Minute)
	}
	for _, o := range obs {
		c.MaxRecords = max(c.MaxRecords, o.Records)
		c.MaxClasses = max(c.MaxClasses, len(o.Classes))
	}
	x := func(t time.Time) float64 { return chartW * float64(t.Sub(start)) / float64(end.Sub(start)) }
	y := func(v, top float64) float64 {
		if top <= 0 {
			return chartH
		}
		return chartH - chartH*v/top
	}
	var rec, cls strings.Builder
	prevCls := -1.0
	for _, o := range obs {
		px := x(o.At)
		if o.Outcome != lifecycle.OutcomeExposed {
			c.Closed = append(c.Closed, ChartMark{X: px, Label: string(o.Outcome) + " " + o.At.UTC().Format(time.RFC3339)})
			continue
		}
		fmt.Fprintf(&rec, "%.1f,%.1f ", px, y(float64(o.Records), float64(c.MaxRecords)))
		cy := y(float64(len(o.Classes)), float64(max(c.MaxClasses, 1)))
		if prevCls >= 0 {
			fmt.Fprintf(&cls, "%.1f,%.1f ", px, prevCls)
		}
		fmt.Fprintf(&cls, "%.1f,%.1f ", px, cy)
		prevCls = cy
	}
	c.Records, c.Classes = strings.TrimSpace(rec.String()), strings.TrimSpace(cls.String())
	for i := 0; i <= 4; i++ {
		t := start.Add(time.Duration(i) * end.Sub(start) / 4)
		layout := "Jan 2 15:04"
		if end.Sub(start) < 24*time.Hour {
			layout = "15:04:05"
		}
		c.Ticks = append(c.Ticks, Tick{X: x(t), Label: t.UTC().Format(layout)})
	}
	return c
}

// funcs are the template helpers. None of them returns template.HTML:
// everything they produce is escaped by html/template like any value.
var funcs = template.FuncMap{
	"age":  age,
	"ago":  func(now, t time.Time) string { return ago(now, t) },
	"num":  lifecycle.Count,
	"nump": func(p *int64) string { return nump(p) },
	"ts": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04:05Z")
	},
	"iso":       func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"dur":       func(d time.Duration) string { return age(d) },
	"sevclass":  func(s finding.Severity) string { return "sev-" + sevName(s) },
	"sevname":   sevName,
	"stclass":   func(s lifecycle.Status) string { return "st-" + string(s) },
	"open":      isOpen,
	"join":      strings.Join,
	"add":       func(a, b float64) float64 { return a + b },
	"mul":       func(a, b float64) float64 { return a * b },
	"f":         func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) },
	"itof":      func(i int) float64 { return float64(i) },
	"chartH":    func() float64 { return chartH },
	"barPitch":  func() float64 { return barPitch },
	"windowH":   func(n int) float64 { return float64(max(n, 1))*barPitch + 24 },
	"short":     func(id string) string { return id[:min(len(id), 12)] },
	"deref":     func(p *int64) int64 { return derefOr(p) },
	"hasAccess": func(a any) bool { return a != nil },
	"clusterArgs": func(c *ClusterView, now time.Time) clusterArgs {
		return clusterArgs{C: c, Now: now}
	},
}

// clusterArgs is what the cluster template gets.
type clusterArgs struct {
	C   *ClusterView
	Now time.Time
}

func sevName(s finding.Severity) string {
	if s == "" {
		return "none"
	}
	return string(s)
}

func derefOr(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// age is a short duration: 45s, 12m, 3h 5m, 4d 2h.
func age(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh %dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	return fmt.Sprintf("%dd %dh", int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour))
}

func ago(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return age(now.Sub(t)) + " ago"
}

func nump(p *int64) string {
	if p == nil {
		return "unknown"
	}
	return lifecycle.Count(*p)
}
