// Command leakwatch finds data stores on your own networks that answer
// without authentication, and measures what they expose.
//
// main only parses flags and wires packages; the logic lives in internal/.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/spf13/pflag"
)

// Exit codes. Pipelines gate on 1.
const (
	exitOK      = 0 // nothing exposed
	exitExposed = 1 // at least one exposed data store
	exitUsage   = 2 // bad usage or input; nothing was contacted
	exitFailed  = 3 // the scan could not run or finish (I/O, internal error)
	// exitIncomplete: --max-duration cut the scan short and nothing exposed
	// was found in what was checked (never 0: the rest was not checked).
	exitIncomplete = 4
	// exitInterrupted: SIGINT/SIGTERM stopped the scan (128 + SIGINT).
	exitInterrupted = 130
)

// version is set at build time with -ldflags "-X main.version=…".
var version = ""

func toolVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// app carries the process's streams, so tests can run commands in-process.
type app struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// usageError is a bad invocation: exit 2, nothing contacted.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

const mainUsage = `leakwatch finds data stores on your own networks that answer without
authentication, and measures what they expose — datasets, record counts,
and which kinds of personal data and secrets the records hold — by reading
metadata and a small bounded sample. It never changes a target.

Usage:
  leakwatch <command> [flags] [arguments]

Commands:
  scan      sweep targets once, probe every data store found, print findings
  classify  classify exports and dumps (JSON lines, JSON, CSV/TSV, SQL, text) offline
  canary    mint and list canary values that prove a leaked copy is yours
  probers   list the data stores leakwatch can probe, with their ports
  findings  list the findings in the monitoring history (open, closed, all)
  show      print one finding's timeline: observations and lifecycle events
  report    incident report of a finding (GDPR Art. 33) or of a period
  serve     monitor scopes continuously: history, alerts, API, metrics
  check-config  validate and explain a leakwatch.yaml
  worker    a scan worker of a cluster: sweeps and probes its site's work items
  cluster   cluster status: coordinators, workers, queues, parked items
  version   print the version

Run 'leakwatch <command> --help' for a command's flags.

Exit codes: 0 nothing exposed, 1 exposed data found, 2 bad usage or input
(nothing contacted), 3 the scan failed, 4 the scan was cut short by
--max-duration and found nothing exposed in what it checked, 130
interrupted (findings so far are printed).
`

func (a *app) run(ctx context.Context, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(a.stderr, mainUsage)
		return exitUsage
	}
	var err error
	code := exitOK
	switch args[0] {
	case "scan":
		code, err = a.scan(ctx, args[1:])
	case "classify":
		code, err = a.classifyCmd(ctx, args[1:])
	case "canary":
		err = a.canary(args[1:])
	case "probers":
		err = a.probers(args[1:])
	case "findings":
		err = a.findings(ctx, args[1:])
	case "show":
		err = a.show(ctx, args[1:])
	case "report":
		err = a.report(ctx, args[1:])
	case "serve":
		err = a.serve(ctx, args[1:])
	case "check-config":
		err = a.checkConfig(args[1:])
	case "worker":
		err = a.worker(ctx, args[1:])
	case "cluster":
		err = a.clusterCmd(ctx, args[1:])
	case "version", "--version", "-v":
		fmt.Fprintf(a.stdout, "leakwatch %s\n", toolVersion())
	case "help", "--help", "-h":
		fmt.Fprint(a.stdout, mainUsage)
	default:
		err = usagef("unknown command %q (see 'leakwatch --help')", args[0])
	}
	var ue *usageError
	switch {
	case errors.Is(err, errHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(a.stderr, "leakwatch: %s\n", visibleLines(ue.msg))
		return exitUsage
	case err != nil:
		fmt.Fprintf(a.stderr, "leakwatch: %s\n", visibleLines(err.Error()))
		return exitFailed
	}
	return code
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a := &app{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}
	os.Exit(a.run(ctx, os.Args[1:]))
}

// flagUsages lists a command's flags. pflag marks boolean flags
// "[=true|false]"; that is noise for switches, so it is blanked out
// (with spaces, to keep the columns aligned).
func flagUsages(fs *pflag.FlagSet) string {
	const mark = "[=true|false]"
	return strings.ReplaceAll(fs.FlagUsages(), mark, strings.Repeat(" ", len(mark)))
}
