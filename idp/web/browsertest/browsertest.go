// Package browsertest starts Debian's chromium, headless, for tests that
// drive login flows in a real browser with chromedp.
package browsertest

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ChromiumPath is where Debian's chromium package puts the browser.
const ChromiumPath = "/usr/bin/chromium"

// New starts a fresh headless browser (its own profile in a temporary
// folder) and returns a chromedp context that ends with the test, or
// shortly before the test binary's deadline (go test -timeout). Without chromium the test fails under CI=true and is skipped
// otherwise, saying how to install it. opts are added to the browser's
// flags (e.g. chromedp.Flag("ignore-certificate-errors-spki-list", ...)
// to trust a test server's certificate).
func New(t *testing.T, opts ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	if _, err := os.Stat(ChromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("chromium is required under CI: %v", err)
		}
		t.Skipf("skipping the browser test: no chromium at %s (apt-get install chromium; under CI=true this fails)", ChromiumPath)
	}
	flags := append([]chromedp.ExecAllocatorOption{
		chromedp.ExecPath(ChromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
	}, opts...)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), flags...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	cancel := context.CancelFunc(func() {})
	if d, ok := t.Deadline(); ok {
		ctx, cancel = context.WithDeadline(ctx, d.Add(-5*time.Second))
	}
	t.Cleanup(func() {
		cancel()
		cancelCtx()
		cancelAlloc()
	})
	return ctx
}

// ScreenshotsEnv names the folder Screenshot writes to instead of the
// test's temporary folder.
const ScreenshotsEnv = "IDPBRIDGE_SCREENSHOTS"

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// Screenshot saves a full-page PNG of the browser's current page as
// <test name>-<name>.png in $IDPBRIDGE_SCREENSHOTS when set (created if
// missing), else in a temporary folder of the test, logs its path and
// returns it. A failure to capture or write fails the test.
func Screenshot(t *testing.T, ctx context.Context, name string) string {
	t.Helper()
	dir := os.Getenv(ScreenshotsEnv)
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	file := strings.Trim(unsafeName.ReplaceAllString(t.Name()+"-"+name, "_"), "_") + ".png"
	path := filepath.Join(dir, file)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	t.Logf("screenshot %s: %s", name, path)
	return path
}
