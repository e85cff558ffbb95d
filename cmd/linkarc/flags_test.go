package main

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestZeroMeans: the one "0 means" convention. 0 is none (-1 in the
// packages' options) for spacing, retries, redirects and the store's retry
// budget, and a usage error for timeouts, sizes and concurrency; negative
// values are always usage errors.
func TestZeroMeans(t *testing.T) {
	var n num
	if got := toOption(&n, "host-interval", time.Duration(0), true); got != -1 || len(n.errs) != 0 {
		t.Errorf("none: %v, %v", got, n.errs)
	}
	if got := toOption(&n, "max-retries", 3, true); got != 3 || len(n.errs) != 0 {
		t.Errorf("a value: %v, %v", got, n.errs)
	}
	toOption(&n, "timeout", time.Duration(0), false)
	toOption(&n, "max-retries", -1, true)
	toOption(&n, "max-body", int64(-5), false)
	if len(n.errs) != 3 || !strings.Contains(n.errs[0].Error(), "-timeout must be greater than 0") ||
		!strings.Contains(n.errs[1].Error(), "-max-retries must not be negative") {
		t.Errorf("errors %v", n.errs)
	}

	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"archive", "--store", dir, "--connect-timeout", "0s", dir}, exitUsage, "-connect-timeout must be greater than 0"},
		{[]string{"archive", "--store", dir, "--read-timeout", "0s", dir}, exitUsage, "-read-timeout must be greater than 0"},
		{[]string{"archive", "--store", dir, "--timeout", "0s", dir}, exitUsage, "-timeout must be greater than 0"},
		{[]string{"archive", "--store", dir, "--max-body", "0", dir}, exitUsage, "-max-body must be greater than 0"},
		{[]string{"archive", "--store", dir, "--concurrency", "0", dir}, exitUsage, "-concurrency must be greater than 0"},
		{[]string{"archive", "--store", dir, "--extract-timeout", "0s", dir}, exitUsage, "-extract-timeout must be greater than 0"},
		{[]string{"archive", "--store", dir, "--extract-memory", "0", dir}, exitUsage, "-extract-memory must be greater than 0"},
		{[]string{"archive", "--store", dir, "--extract-memory", "lots", dir}, exitUsage, `-extract-memory "lots": want a size like 16MiB`},
		{[]string{"archive", "--store", dir, "--max-retries", "-1", dir}, exitUsage, "-max-retries must not be negative"},
		{[]string{"archive", "--store", dir, "--host-interval", "-1s", dir}, exitUsage, "-host-interval must not be negative"},
		{[]string{"archive", "--store", dir, "--asset-interval", "-1s", dir}, exitUsage, "-asset-interval must not be negative"},
		{[]string{"archive", "--store", dir, "--max-requisites", "0", dir}, exitUsage, "-max-requisites must be greater than 0"},
		{[]string{"archive", "--store", dir, "--max-requisite-bytes", "0", dir}, exitUsage, "-max-requisite-bytes must be greater than 0"},
		{[]string{"archive", "--store", dir, "--max-requisite-bytes", "-5", dir}, exitUsage, `-max-requisite-bytes "-5": must not be negative`},
		{[]string{"archive", "--store", dir, "--extract-memory", "-1MiB", dir}, exitUsage, `-extract-memory "-1MiB": must not be negative`},
		{[]string{"archive", "--store", dir, "--requisites=maybe", dir}, exitUsage, `-requisites="maybe": want true or false`},
		{[]string{"resolve", "--no-cache", "--timeout", "0s", "x"}, exitUsage, "-timeout must be greater than 0"},
		{[]string{"serve", "--store", dir, "--refresh-interval", "0s"}, exitUsage, "-refresh-interval must be greater than 0"},
		// 0 where none makes sense: accepted (the digest names no link, so
		// nothing is fetched and the run ends with the digest skipped).
		{[]string{"archive", "--store", dir, "--host-interval", "0", "--max-retries", "0", "--max-redirects", "0",
			"--max-retry-after", "0", "--store-retry", "0", "--gnews-interval", "0", "--asset-interval", "0", "--progress", "none", linklessDigest(t)}, exitSomeFailed, ""},
	} {
		res := runLinkarc(t, nil, "", tc.args...)
		if res.code != tc.code || !strings.Contains(res.stderr, tc.msg) {
			t.Errorf("%q: exit %d, want %d; stderr %q lacks %q", tc.args, res.code, tc.code, res.stderr, tc.msg)
		}
		// A value out of range is a flag error like any other: it says
		// where the help is (docs/configuration.md).
		if help := "Run 'linkarc help " + tc.args[0] + "' for its flags."; tc.code == exitUsage && !strings.Contains(res.stderr, help) {
			t.Errorf("%q: stderr %q lacks %q", tc.args, res.stderr, help)
		}
	}
}

// TestEnvErrorsPointToHelp: a bad environment value is reported with its
// name, exit status 2, and where the help (which names every variable) is.
func TestEnvErrorsPointToHelp(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		env []string
		msg string
	}{
		{[]string{"LINKARC_PAGES=maybe"}, `LINKARC_PAGES="maybe": want 1, 0, true or false`},
		{[]string{"LINKARC_MAX_REQUISITE_BYTES=lots"}, `LINKARC_MAX_REQUISITE_BYTES="lots": not a size`},
		{[]string{"LINKARC_ASSET_INTERVAL=-1s"}, `LINKARC_ASSET_INTERVAL="-1s": must not be negative`},
		{[]string{"LINKARC_MAX_RETRIES=-2"}, `LINKARC_MAX_RETRIES="-2": must not be negative`},
		{[]string{"LINKARC_CONCURRENCY=0"}, `LINKARC_CONCURRENCY="0": must be greater than 0`},
		{[]string{"LINKARC_MAX_REQUISITE_BYTES=-5"}, `LINKARC_MAX_REQUISITE_BYTES="-5": must not be negative`},
	} {
		res := runLinkarc(t, tc.env, "", "archive", "--store", dir, "--dry-run", linklessDigest(t))
		if res.code != exitUsage || !strings.Contains(res.stderr, tc.msg) ||
			!strings.Contains(res.stderr, "Run 'linkarc help archive' for its flags.") {
			t.Errorf("%q: exit %d, want %d; stderr %q, want %q and the help pointer", tc.env, res.code, exitUsage, res.stderr, tc.msg)
		}
	}
}

func TestDefaultStore(t *testing.T) {
	for _, tc := range []struct {
		env  []string
		want string
	}{
		{[]string{"XDG_DATA_HOME=/data", "HOME=/home/u"}, "/data/linkarc"},
		{[]string{"HOME=/home/u"}, "/home/u/.local/share/linkarc"},
		{[]string{"XDG_DATA_HOME=relative/dir", "HOME=/home/u"}, "/home/u/.local/share/linkarc"}, // XDG: relative paths are invalid
		{nil, ""},
	} {
		got, err := defaultStore(envLookup(tc.env))
		if got != tc.want || (tc.want == "") != (err != nil) {
			t.Errorf("defaultStore(%q) = %q, %v; want %q", tc.env, got, err, tc.want)
		}
	}
}

// TestArchiveDefaultStore: without --store or LINKARC_STORE the archive
// lands in $XDG_DATA_HOME/linkarc, never in the working directory, and the
// run says where; --store and LINKARC_STORE still win.
func TestArchiveDefaultStore(t *testing.T) {
	data, digests := t.TempDir(), linklessDigest(t)
	res := runLinkarc(t, []string{"XDG_DATA_HOME=" + data, "HOME=/nonexistent"}, "", "archive", "--progress", "none", digests)
	want := filepath.Join(data, "linkarc")
	if res.code != exitSomeFailed || !strings.Contains(res.stderr, "linkarc archive: store "+want+"\n") {
		t.Fatalf("exit %d, stderr %q; want the store %s named", res.code, res.stderr, want)
	}
	if fi, err := os.Stat(want); err != nil || !fi.IsDir() {
		t.Errorf("default store not created: %v", err)
	}
	other := filepath.Join(t.TempDir(), "s")
	res = runLinkarc(t, []string{"XDG_DATA_HOME=" + data, "LINKARC_STORE=" + other}, "", "archive", "--progress", "none", digests)
	if !strings.Contains(res.stderr, "linkarc archive: store "+other+"\n") {
		t.Errorf("LINKARC_STORE ignored: %q", res.stderr)
	}
	res = runLinkarc(t, nil, "", "archive", "--progress", "none", digests)
	if res.code != exitUsage || !strings.Contains(res.stderr, "--store") {
		t.Errorf("no HOME, no XDG_DATA_HOME: exit %d, stderr %q", res.code, res.stderr)
	}
}

// linklessDigest writes a digest whose list has no link: a run over it opens
// the store and reports the digest as skipped, without a request.
func linklessDigest(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "empty.md")
	if err := os.WriteFile(p, []byte("---\ntitle: Nothing today\nslug: nothing-today\n---\n<ol></ol>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestFlagErrorsEachLine: several flag and environment errors at once are
// all reported, one line each, every line with the command's prefix, and
// a flag on the command line is named as the flag even when its variable
// is set too.
func TestFlagErrorsEachLine(t *testing.T) {
	dir := t.TempDir()
	env := []string{"LINKARC_ASSET_INTERVAL=-1s", "LINKARC_MAX_RETRIES=-3"}
	res := runLinkarc(t, env, "", "archive", "--store", dir, "--dry-run", "--max-retries", "-1", "--connect-timeout", "0", linklessDigest(t))
	want := []string{
		`linkarc archive: LINKARC_ASSET_INTERVAL="-1s": must not be negative`,
		"linkarc archive: -connect-timeout must be greater than 0",
		"linkarc archive: -max-retries must not be negative",
		"Run 'linkarc help archive' for its flags.",
	}
	got := strings.Split(strings.TrimSpace(res.stderr), "\n")
	slices.Sort(got[:len(got)-1])
	slices.Sort(want[:len(want)-1])
	if res.code != exitUsage || strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("exit %d, stderr:\n%s\nwant (any order but the last):\n%s", res.code, res.stderr, strings.Join(want, "\n"))
	}
}

// TestFlagsAnywhere: flags are taken wherever they stand before a bare
// "--" (as git takes them), and everything after "--" is an input, even
// when it is spelled like a flag.
func TestFlagsAnywhere(t *testing.T) {
	tests := []struct {
		args      []string
		dry, json bool
		ua        string
		inputs    []string
	}{
		{[]string{"digests", "--dry-run", "--no-google"}, true, false, "", []string{"digests"}},
		{[]string{"--no-google", "ID", "--json"}, false, true, "", []string{"ID"}},
		{[]string{"a", "-", "b", "--json", "c"}, false, true, "", []string{"a", "-", "b", "c"}},
		{[]string{"a", "--", "--dry-run", "-json"}, false, false, "", []string{"a", "--dry-run", "-json"}},
		{[]string{"--", "--"}, false, false, "", []string{"--"}},
		{[]string{"--ua", "--", "a", "--json"}, false, true, "--", []string{"a"}}, // "--" as a flag's value
		{[]string{"--ua=x", "a", "--dry-run=false", "--", "-b"}, false, false, "x", []string{"a", "-b"}},
		{[]string{"--no-google", "--", "x", "--", "y"}, false, false, "", []string{"x", "--", "y"}},
		{nil, false, false, "", nil},
	}
	for _, tt := range tests {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.Bool("no-google", false, "")
		dry, jsonOut := fs.Bool("dry-run", false, ""), fs.Bool("json", false, "")
		ua := fs.String("ua", "", "")
		if err := parseInterspersed(fs, tt.args); err != nil {
			t.Errorf("%q: %v", tt.args, err)
			continue
		}
		if *dry != tt.dry || *jsonOut != tt.json || *ua != tt.ua || !slices.Equal(fs.Args(), tt.inputs) {
			t.Errorf("%q: dry-run %v json %v ua %q inputs %q; want %v %v %q %q", tt.args, *dry, *jsonOut, *ua, fs.Args(), tt.dry, tt.json, tt.ua, tt.inputs)
		}
	}
}

// TestFlagsAfterInputsEndToEnd: the commands a fresh user typed, flags
// after the inputs, do what they say; an input named like a flag is
// reached after "--".
func TestFlagsAfterInputsEndToEnd(t *testing.T) {
	dir := t.TempDir()
	list := filepath.Join(dir, "links.txt")
	if err := os.WriteFile(list, []byte("https://a.example/x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	store := filepath.Join(dir, "store")
	res := runLinkarc(t, nil, "", "archive", list, "--dry-run", "--no-google", "--store", store)
	// "1 digest": the count words agree with the count (or read "1 digests" before they did).
	if res.code != exitOK || !strings.Contains(res.stdout, "dry run, nothing was requested: 1 digest") {
		t.Errorf("archive LIST --dry-run: exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	res = runLinkarc(t, nil, "", "archive", "--store", store, "--dry-run", "--", "--no-google")
	if res.code != exitUsage || !strings.Contains(res.stderr, "linkarc archive: --no-google: no such file or folder") {
		t.Errorf("archive -- --no-google: exit %d\nstderr:\n%s", res.code, res.stderr)
	}
	const id = "CBMiSGh0dHBzOi8vdGVjaGNydW5jaC5jb20vMjAyMi8xMC8yNy9uZXcteW9yay1wb3N0LWhhY2tlZC1vZmZlbnNpdmUtdHdlZXRzL9IBAA" // embeds its URL
	res = runLinkarc(t, nil, "", "resolve", "--no-google", id, "--json", "--store", store)
	var line struct{ Input, URL string }
	if err := json.Unmarshal([]byte(res.stdout), &line); res.code != exitOK || err != nil || line.Input != id || line.URL != "https://techcrunch.com/2022/10/27/new-york-post-hacked-offensive-tweets/" {
		t.Errorf("resolve --no-google ID --json: exit %d (%v)\nstdout:\n%s\nstderr:\n%s", res.code, err, res.stdout, res.stderr)
	}
}
