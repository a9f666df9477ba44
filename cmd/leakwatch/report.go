package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/leakwatch/leakwatch/internal/config"
	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/output"
	"github.com/leakwatch/leakwatch/internal/report"
	"github.com/leakwatch/leakwatch/internal/store"
)

const reportUsage = `Usage: leakwatch report [flags] ID
       leakwatch report [flags] --since DATE [--until DATE] [--scope NAME]

With an ID (or a unique prefix, as for 'leakwatch show'): the incident report
of one finding from the monitoring history, with sections mapped to GDPR
Art. 33(3)(a)-(d) and 33(5): nature of the breach, exposure window with the
proof of closing, categories of data and of data subjects, approximate
numbers of records and subjects (intervals and methods), access evidence and
its limits, destruction/extortion/canary events, likely consequences,
measures taken, and what cannot be known. No raw value ever appears.

With --since: every exposure of the period (optionally of one scope), with
totals — the monthly report.

Formats: md (default), html (one self-contained printable page with an SVG
timeline), json; and, for the findings themselves with their exposure window,
sarif and ocsf.

Free text (--controller, --dpo, --measure) adds to the config's report:
section when --config is given.

Flags:
`

func (a *app) report(ctx context.Context, args []string) error {
	var (
		sf                  storeFlags
		format, out         string
		scope, since, until string
		cfgPath             string
		controller, dpo     string
		measures            []string
	)
	fs := pflag.NewFlagSet("report", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	sf.register(fs)
	fs.StringVar(&format, "format", "md", "md, html, json, sarif or ocsf")
	fs.StringVarP(&out, "output", "o", "", "write to this file instead of stdout")
	fs.StringVar(&scope, "scope", "", "period report: only this scope")
	fs.StringVar(&since, "since", "", "period report: from this date (2026-11-01 or RFC 3339), UTC")
	fs.StringVar(&until, "until", "", "period report: up to this date (default now)")
	fs.StringVar(&cfgPath, "config", "", "read the report: section (controller, dpo, measures) from this leakwatch.yaml")
	fs.StringVar(&controller, "controller", "", "the data controller (name, address)")
	fs.StringVar(&dpo, "dpo", "", "the data-protection officer's name and contact (Art. 33(3)(b))")
	fs.StringArrayVar(&measures, "measure", nil, "a measure taken or proposed (repeatable, Art. 33(3)(d))")
	fs.BoolP("help", "h", false, "show this help")
	if err := fs.Parse(args); err != nil {
		return usagef("report: %v (see 'leakwatch report --help')", err)
	}
	if h, _ := fs.GetBool("help"); h {
		fmt.Fprint(a.stdout, reportUsage+flagUsages(fs))
		return errHelp
	}
	format = strings.ToLower(format)
	if format == "markdown" {
		format = "md"
	}
	switch format {
	case "md", "html", "json", "sarif", "ocsf":
	default:
		return usagef("report: --format %q: want md, html, json, sarif or ocsf", format)
	}
	period := since != "" || scope != "" || until != ""
	switch {
	case period && fs.NArg() > 0:
		return usagef("report: give a finding ID or --since/--scope, not both")
	case period && since == "":
		return usagef("report: a period report needs --since DATE")
	case !period && fs.NArg() != 1:
		return usagef("report: want one finding ID, or --since DATE (see 'leakwatch report --help')")
	}
	opts := report.Options{Now: time.Now()}
	if cfgPath != "" {
		c, err := config.Load(cfgPath)
		if err != nil {
			return usagef("report: %v", err)
		}
		opts.Controller, opts.DPO, opts.Measures = c.Report.Controller, c.Report.DPO, append([]string(nil), c.Report.Measures...)
	}
	if controller != "" {
		opts.Controller = controller
	}
	if dpo != "" {
		opts.DPO = dpo
	}
	opts.Measures = append(opts.Measures, measures...)
	if err := (config.Report{Controller: opts.Controller, DPO: opts.DPO, Measures: opts.Measures}).Validate(); err != nil {
		return usagef("report: %v", err)
	}
	var from, to time.Time
	if period {
		var err error
		if from, err = parseDate(since); err != nil {
			return usagef("report: --since: %v", err)
		}
		if until != "" {
			if to, err = parseDate(until); err != nil {
				return usagef("report: --until: %v", err)
			}
		}
	}

	st, err := sf.open(ctx, fs)
	if err != nil {
		return err
	}
	defer st.Close()
	var details []*store.FindingDetail
	if period {
		list, err := st.ListFindings(ctx, store.FindingFilter{Scope: scope})
		if err != nil {
			return err
		}
		for _, f := range list {
			d, err := st.GetFinding(ctx, f.ID, store.TimelineQuery{})
			if err != nil {
				return err
			}
			if report.Overlaps(report.Build(d, opts), from, to) {
				details = append(details, d)
			}
		}
	} else {
		id, err := resolveFinding(ctx, st, fs.Arg(0))
		if err != nil {
			return err
		}
		d, err := st.GetFinding(ctx, id, store.TimelineQuery{})
		if err != nil {
			return err
		}
		details = append(details, d)
	}

	var buf bytes.Buffer
	switch {
	case format == "sarif" || format == "ocsf":
		err = writeWindowed(&buf, format, details)
	case period:
		var rs []*report.Report
		for _, d := range details {
			rs = append(rs, report.Build(d, opts))
		}
		err = report.WritePeriod(&buf, format, report.BuildPeriod(scope, from, to, rs, opts))
	default:
		err = report.Write(&buf, format, report.Build(details[0], opts))
	}
	if err != nil {
		return err
	}
	if out == "" {
		_, err = a.stdout.Write(buf.Bytes())
		return err
	}
	if err := os.WriteFile(out, buf.Bytes(), 0o600); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// writeWindowed writes the findings' last exposed snapshots as SARIF or
// OCSF with their exposure window from the history.
func writeWindowed(w io.Writer, format string, details []*store.FindingDetail) error {
	hist := map[string]output.History{}
	var fs []finding.Finding
	for _, d := range details {
		f := d.Finding
		if f.Last == nil {
			continue
		}
		hist[f.ID] = output.History{FirstSeen: f.FirstSeen, LastSeenOpen: f.LastSeenOpen, ClosedAt: f.ClosedAt, Status: string(f.Status)}
		fs = append(fs, *f.Last)
	}
	ff := output.FormatSARIF
	if format == "ocsf" {
		ff = output.FormatOCSF
	}
	return output.WriteAll(ff, w, output.Options{ToolVersion: toolVersion(), History: hist}, fs)
}

// parseDate reads 2026-11-01 or an RFC 3339 time (UTC).
func parseDate(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t.UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q: want YYYY-MM-DD or RFC 3339", s)
	}
	return t.UTC(), nil
}
