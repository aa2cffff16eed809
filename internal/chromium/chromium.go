// Package chromium opens a page in headless Debian Chromium for tests: a
// screenshot and the DOM after rendering. A missing chromium fails the test
// (make setup installs it), it never skips.
package chromium

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"os/exec"
	"testing"
	"time"
)

// Browse runs headless Chromium on page (a file path) with args (a
// --screenshot=… or --dump-dom) and returns its standard output.
func Browse(t testing.TB, page string, args ...string) []byte {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium not installed (make setup installs it): %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir(), "--window-size=1400,1000"}
	cmd := exec.CommandContext(ctx, bin, append(append(base, args...), "file://"+page)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, stderr.String())
	}
	return stdout.Bytes()
}

// Colors takes a screenshot of page and counts its distinct colours (up to
// 1000): a blank page has one or two.
func Colors(t testing.TB, page string) int {
	t.Helper()
	shot := t.TempDir() + "/page.png"
	Browse(t, page, "--screenshot="+shot)
	return PNGColors(t, shot)
}

// PNGColors counts the distinct colours of a PNG file (up to 1000, sampling
// every third pixel): a blank or unstyled rendering has a handful.
func PNGColors(t testing.TB, file string) int {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	seen := map[[4]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y && len(seen) < 1000; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[[4]uint32{r, g, bl, a}] = true
		}
	}
	return len(seen)
}
