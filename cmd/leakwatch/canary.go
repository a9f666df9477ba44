package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"github.com/leakwatch/leakwatch/internal/classify"
)

const canaryUsage = `Usage:
  leakwatch canary new --kind KIND --label LABEL [--domain DOMAIN]
  leakwatch canary list

A canary is a value that looks ordinary (an email, a user name, a token) but
that only this installation's key recognises. Plant one in a production
table; any exposed store whose sample holds it is flagged "canary" with the
label, proof that the store holds a copy of that production data.

Kinds: ` + "email, username, auth_token, api_key" + `

Flags:
`

// canaryFile is the canary registry beside the key file.
func canaryFile(keyFile string) string {
	return filepath.Join(filepath.Dir(keyFile), "canaries.json")
}

func loadCanaries(path string) ([]classify.Canary, error) {
	r, err := classify.LoadRegistry(path)
	if err != nil {
		return nil, err
	}
	return r.Canaries, nil
}

func (a *app) canary(args []string) error {
	fs := pflag.NewFlagSet("canary", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	kind := fs.String("kind", "", "kind of value: "+strings.Join(classify.CanaryKinds, ", "))
	label := fs.String("label", "", "what the canary marks, e.g. prod-users-table")
	domain := fs.String("domain", "", "email domain for email canaries (default example.com; use one you own)")
	keyFile := fs.String("key-file", defaultKeyFile(), "per-installation key (created if missing)")
	help := fs.BoolP("help", "h", false, "show this help")
	if err := fs.Parse(args); err != nil {
		return usagef("canary: %v", err)
	}
	if *help || len(fs.Args()) == 0 {
		fmt.Fprint(a.stdout, canaryUsage+flagUsages(fs))
		if *help {
			return errHelp
		}
		return usagef("canary: missing subcommand (new or list)")
	}
	key, err := classify.LoadOrCreateKey(*keyFile)
	if err != nil {
		return err
	}
	regPath := canaryFile(*keyFile)
	reg, err := classify.LoadRegistry(regPath)
	if err != nil {
		return err
	}
	switch fs.Arg(0) {
	case "new":
		if *kind == "" || *label == "" {
			return usagef("canary new: --kind and --label are required")
		}
		known := false
		for _, k := range classify.CanaryKinds {
			known = known || k == *kind
		}
		if !known {
			return usagef("canary new: unknown kind %q (want %s)", *kind, strings.Join(classify.CanaryKinds, ", "))
		}
		c, err := reg.Add(key, *kind, *label, *domain, time.Now())
		if err != nil {
			return usagef("canary new: %v", err)
		}
		if err := reg.Save(regPath); err != nil {
			return err
		}
		fmt.Fprintln(a.stdout, c.Value)
		fmt.Fprintf(a.stderr, "leakwatch: canary %s/%s registered in %s; plant the value above in the data it marks\n", c.Kind, c.Label, regPath)
	case "list":
		tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "LABEL\tKIND\tCREATED\tVALUE")
		for _, c := range reg.List(key) {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.Label, c.Kind, c.Created.Format(time.DateOnly), c.Value)
		}
		return tw.Flush()
	default:
		return usagef("canary: unknown subcommand %q (new or list)", fs.Arg(0))
	}
	return nil
}
