package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/lifecycle"
	"github.com/leakwatch/leakwatch/internal/store"
)

const showUsage = `Usage: leakwatch show [flags] ID

Prints one finding from the history and its timeline: every observation
(what each check saw: exposed, protected, gone) and every lifecycle event
(opened, changed, closed with its proof, reopened), with timestamps. ID may
be a unique prefix of the finding id shown by 'leakwatch findings'.

Flags:
`

func (a *app) show(ctx context.Context, args []string) error {
	var (
		sf     storeFlags
		format string
		limit  int
	)
	fs := pflag.NewFlagSet("show", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	sf.register(fs)
	fs.StringVar(&format, "format", "text", "text or json")
	fs.IntVar(&limit, "limit", 0, "show only the newest N observations (events are all shown; 0: all)")
	fs.BoolP("help", "h", false, "show this help")
	if err := fs.Parse(args); err != nil {
		return usagef("show: %v (see 'leakwatch show --help')", err)
	}
	if h, _ := fs.GetBool("help"); h {
		fmt.Fprint(a.stdout, showUsage+flagUsages(fs))
		return errHelp
	}
	if fs.NArg() != 1 {
		return usagef("show: want one finding ID (see 'leakwatch findings')")
	}
	if format != "text" && format != "json" {
		return usagef("show: --format %q: want text or json", format)
	}
	st, err := sf.open(ctx, fs)
	if err != nil {
		return err
	}
	defer st.Close()
	id, err := resolveFinding(ctx, st, fs.Arg(0))
	if err != nil {
		return err
	}
	d, err := st.GetFinding(ctx, id, store.TimelineQuery{Limit: limit})
	if err != nil {
		return err
	}
	if format == "json" {
		return writeSafeJSON(a.stdout, d, true)
	}
	return writeTimeline(a.stdout, d)
}

// resolveFinding turns a unique id prefix into the id.
func resolveFinding(ctx context.Context, st store.Store, arg string) (string, error) {
	_, err := st.GetFinding(ctx, arg, store.TimelineQuery{Limit: 1})
	if err == nil {
		return arg, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	list, err := st.ListFindings(ctx, store.FindingFilter{IDPrefix: arg, Limit: 10})
	if err != nil {
		return "", err
	}
	switch len(list) {
	case 0:
		return "", usagef("show: no finding %q (see 'leakwatch findings --status all')", arg)
	case 1:
		return list[0].ID, nil
	}
	var ids []string
	for _, f := range list {
		ids = append(ids, f.ID)
	}
	return "", usagef("show: %q is ambiguous: %s", arg, strings.Join(ids, ", "))
}

func writeTimeline(w io.Writer, d *store.FindingDetail) error {
	f := d.Finding
	fmt.Fprintf(w, "Finding %s: %s on %s", f.ID, f.Service, f.Target.Addr())
	if f.Target.Hostname != "" {
		fmt.Fprintf(w, " (%s)", f.Target.Hostname)
	}
	if f.Scope != "" {
		fmt.Fprintf(w, ", scope %s", f.Scope)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  Status:         %s (severity %s)\n", f.Status, f.Severity)
	fmt.Fprintf(w, "  First seen:     %s\n", stamp(f.FirstSeen))
	fmt.Fprintf(w, "  Last seen open: %s\n", stamp(f.LastSeenOpen))
	if !f.ClosedAt.IsZero() {
		fmt.Fprintf(w, "  Closed at:      %s\n", stamp(f.ClosedAt))
	}
	if f.ReopenCount > 0 {
		fmt.Fprintf(w, "  Reopened:       %d time(s)\n", f.ReopenCount)
	}
	if l := f.Last; l != nil {
		fmt.Fprintf(w, "  Exposes:        %s\n", exposure(l))
	}
	fmt.Fprintf(w, "  Observations:   %d\n\nTimeline (UTC):\n", f.Observations)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, e := range d.Timeline {
		switch {
		case e.Observation != nil:
			fmt.Fprintf(tw, "%s\tcheck\t%s\t%s\n", stamp(e.At), e.Observation.Outcome, observationLine(e.Observation))
		case e.Event != nil:
			fmt.Fprintf(tw, "%s\tEVENT\t%s\t%s\n", stamp(e.At), strings.ToUpper(string(e.Event.Kind)), e.Event.Summary)
		}
	}
	return tw.Flush()
}

// observationLine sums up one check.
func observationLine(o *store.Observation) string {
	var parts []string
	switch o.Outcome {
	case lifecycle.OutcomeExposed:
		parts = append(parts, "auth "+string(o.Auth), fmt.Sprintf("%d datasets", o.Datasets),
			lifecycle.Count(o.Records)+" records")
		if len(o.Classes) > 0 {
			parts = append(parts, "classes "+strings.Join(o.Classes, ","))
		}
		if len(o.Flags) > 0 {
			parts = append(parts, "flags "+strings.Join(o.Flags, ","))
		}
	default:
		if o.Reason != "" {
			parts = append(parts, o.Reason)
		}
	}
	parts = append(parts, "scan "+o.ScanID, fmt.Sprintf("obs #%d", o.ID))
	return strings.Join(parts, "; ")
}

// exposure sums up an exposed snapshot.
func exposure(f *finding.Finding) string {
	s := fmt.Sprintf("%d datasets, %s records, auth %s", len(f.Datasets), lifecycle.Count(f.TotalRecords()), f.Auth)
	if f.Product != "" {
		s += ", " + strings.TrimSpace(f.Product+" "+f.Version)
	}
	if len(f.Classes) > 0 {
		s += "; classes " + strings.Join(f.Classes, ", ")
	}
	if len(f.Flags) > 0 {
		s += "; flags " + strings.Join(f.Flags, ", ")
	}
	return s
}
