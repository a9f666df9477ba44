package testenv

import (
	"context"

	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// browser is the test binary's one headless Chromium: started on first
// use, killed with the process (chromedp gives it the parent-death
// signal).
var browser struct {
	once sync.Once
	ctx  context.Context
	err  error
	dir  string
}

// BrowserTab opens a tab in the test binary's headless Chromium (Debian's
// chromium package) and closes it when the test ends; every chromedp action
// run on the returned context happens in that tab. Tabs share the browser's
// cookie jar. Chromium resolves no hostname (host-resolver-rules maps every
// name to nothing) and runs its background services off, so a test browses
// the loopback addresses it is given and contacts nothing else.
func BrowserTab(tb testing.TB) context.Context {
	tb.Helper()
	exe := Binary(tb, "chromium")
	browser.once.Do(func() {
		removeStaleProfiles()
		browser.dir = filepath.Join(os.TempDir(), fmt.Sprintf("%s%d", profilePrefix, os.Getpid()))
		if browser.err = os.MkdirAll(browser.dir, 0o700); browser.err != nil {
			return
		}
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(exe),
			chromedp.UserDataDir(browser.dir),
			chromedp.WindowSize(1360, 900),
			chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.*"),
			chromedp.Flag("no-proxy-server", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-domain-reliability", true),
			chromedp.Flag("no-pings", true),
			chromedp.Flag("disable-gpu", true),
			chromedp.Flag("mute-audio", true),
			chromedp.WSURLReadTimeout(2*time.Minute), // slow start under -race on a loaded machine
		)
		if os.Geteuid() == 0 {
			opts = append(opts, chromedp.NoSandbox)
		}
		alloc, _ := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, _ := chromedp.NewContext(alloc)
		// The first Run starts the browser.
		browser.err = chromedp.Do(ctx)
		browser.ctx = ctx
	})
	if browser.err != nil {
		Unavailable(tb, "chromium did not start: %v", browser.err)
	}
	tab, cancel := chromedp.NewContext(browser.ctx)
	if err := chromedp.Do(tab); err != nil {
		cancel()
		tb.Fatalf("chromium: new tab: %v", err)
	}
	tb.Cleanup(cancel)
	return tab
}

// profilePrefix names the browser profiles in the temp directory, with the
// pid of the test binary that uses one.
const profilePrefix = "leakwatch-chromium-"

// removeStaleProfiles removes the profiles of test binaries that have
// ended (a profile outlives its binary: the browser runs until the process
// exits, so no cleanup of the binary's can remove it).
func removeStaleProfiles() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), profilePrefix+"*"))
	for _, d := range dirs {
		pid, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(d), profilePrefix))
		if err != nil || pid == os.Getpid() {
			continue
		}
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); os.IsNotExist(err) {
			os.RemoveAll(d)
		}
	}
}

// BrowserDir is the browser's profile directory (empty before the first
// BrowserTab).
func BrowserDir() string { return browser.dir }
