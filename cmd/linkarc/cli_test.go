package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/linkarc/linkarc/internal/buildinfo"
	"github.com/linkarc/linkarc/storage"
)

// TestFlagErrors: a flag error names the flag and the form it accepts, in
// two lines (the problem, and where the help is), never the whole usage;
// exit status 2.
func TestFlagErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"archive", "--timeout", "5", dir}, `linkarc archive: -timeout "5": want a duration like 30s, 2m or 1h30m`},
		{[]string{"archive", "--max-body", "lots", dir}, `linkarc archive: -max-body "lots": want a size like 16MiB, 512KiB or a number of bytes`},
		{[]string{"archive", "--concurrency", "many", dir}, `linkarc archive: -concurrency "many": want a whole number`},
		{[]string{"archive", "--refresh=maybe", dir}, `linkarc archive: -refresh="maybe": want true or false (or -refresh alone for true)`},
		{[]string{"archive", "--store"}, `linkarc archive: -store needs a value: a directory, or s3://BUCKET[/PREFIX]`},
		{[]string{"archive", "--progres", "bar", dir}, `linkarc archive: unknown flag -progres; did you mean --progress?`},
		{[]string{"serve", "--timeout", "1s"}, `linkarc serve: unknown flag -timeout (it is a flag of archive and resolve, not of serve)`},
		{[]string{"serve", "--log-level"}, `linkarc serve: -log-level needs a value: debug, info, warn or error`},
		{[]string{"resolve", "---json"}, `linkarc resolve: bad flag syntax "---json": flags look like --name VALUE or --name=VALUE`},
		{[]string{"export", "--format"}, `linkarc export: -format needs a value: digests, jsonl, site or wacz`},
		{[]string{"reextract", "--bogus"}, `linkarc reextract: unknown flag -bogus`},
		{[]string{"reextract", "--rebuild-pages", "some"}, `linkarc reextract: -rebuild-pages "some": want missing, all or none`},
		{[]string{"reextract", "--rebuild-pages"}, `linkarc reextract: -rebuild-pages needs a value: missing, all or none`},
		{[]string{"archive", "--pages=some", dir}, `linkarc archive: -pages="some": want true or false (or -pages alone for true)`},
	} {
		res := runLinkarc(t, nil, "", tc.args...)
		lines := strings.Split(strings.TrimSuffix(res.stderr, "\n"), "\n")
		if res.code != exitUsage || lines[0] != tc.want || len(lines) != 2 || !strings.HasPrefix(lines[1], "Run 'linkarc help ") {
			t.Errorf("%q: exit %d, stderr:\n%s\nwant exit 2 and the two lines\n%s\nRun 'linkarc help …'", tc.args, res.code, res.stderr, tc.want)
		}
		if res.stdout != "" {
			t.Errorf("%q: stdout %q", tc.args, res.stdout)
		}
	}
}

// TestWordValueErrors: a flag that takes one of a few words names the
// value as the user gave it, the flag or the environment variable, with
// what it accepts and the pointer to the help, like every flag error.
func TestWordValueErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		env  []string
		args []string
		want string
	}{
		{[]string{"LINKARC_LOG_LEVEL=loud"}, []string{"serve"}, `linkarc serve: LINKARC_LOG_LEVEL="loud": want debug, info, warn or error`},
		{nil, []string{"serve", "--log-level", "loud"}, `linkarc serve: -log-level "loud": want debug, info, warn or error`},
		{[]string{"LINKARC_LOG_LEVEL=loud"}, []string{"archive", "--log-level", "chatty", dir}, `linkarc archive: -log-level "chatty": want debug, info, warn or error`},
		{[]string{"LINKARC_PROGRESS=fancy"}, []string{"archive", dir}, `linkarc archive: LINKARC_PROGRESS="fancy": want auto, bar, plain or none`},
		{nil, []string{"archive", "--progress", "fancy", dir}, `linkarc archive: -progress "fancy": want auto, bar, plain or none`},
	} {
		res := runLinkarc(t, tc.env, "", tc.args...)
		lines := strings.Split(strings.TrimSuffix(res.stderr, "\n"), "\n")
		if res.code != exitUsage || lines[0] != tc.want || len(lines) != 2 || !strings.HasPrefix(lines[1], "Run 'linkarc help ") {
			t.Errorf("%q %q: exit %d, stderr:\n%s\nwant exit 2 and the two lines\n%s\nRun 'linkarc help …'", tc.env, tc.args, res.code, res.stderr, tc.want)
		}
	}
}

// TestCommandErrors: an unknown command suggests the near one; no command
// prints the list; help of an unknown command says which exist.
func TestCommandErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"arhcive"}, exitUsage, `linkarc: unknown command "arhcive"; did you mean "archive"?`},
		{[]string{"frobnicate"}, exitUsage, `linkarc: unknown command "frobnicate"` + "\nRun 'linkarc help' for the list of commands."},
		{nil, exitUsage, "linkarc archive "},
		{[]string{"help", "frobnicate"}, exitUsage, `linkarc help: unknown command "frobnicate"; the commands are archive, resolve, serve, export`},
		{[]string{"completion", "tcsh"}, exitUsage, `linkarc completion: unknown shell "tcsh": want bash, zsh or fish`},
		{[]string{"completion"}, exitUsage, "linkarc completion: name one shell: bash, zsh or fish"},
		{[]string{"version", "extra"}, exitUsage, "linkarc version: takes no arguments"},
		{[]string{"healthcheck"}, exitUsage, "linkarc healthcheck: name one URL"},
		{[]string{"help", "serv"}, exitUsage, `linkarc help: unknown command "serv"; did you mean "serve"?`},
		{[]string{"healthcheck", "notaurl"}, exitUsage, `linkarc healthcheck: "notaurl" is not an http or https URL`},
		{[]string{"healthcheck", "ftp://localhost/healthz"}, exitUsage, `is not an http or https URL`},
		{[]string{"healthcheck", "http://127.0.0.1:1/healthz"}, exitSomeFailed, `linkarc healthcheck: Get "http://127.0.0.1:1/healthz"`},
	} {
		res := runLinkarc(t, nil, "", tc.args...)
		if res.code != tc.code || !strings.Contains(res.stderr, tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want exit %d and %q", tc.args, res.code, res.stderr, tc.code, tc.want)
		}
	}
}

// TestHelp: `linkarc help COMMAND` prints that command's usage and flags on
// stdout, exactly as `linkarc COMMAND -help` does.
func TestHelp(t *testing.T) {
	for _, c := range commands() {
		res := runLinkarc(t, nil, "", "help", c.name)
		if res.code != exitOK || !strings.HasPrefix(res.stdout, "Usage: linkarc "+c.name) || res.stderr != "" {
			t.Errorf("help %s: exit %d, stdout %q, stderr %q", c.name, res.code, res.stdout, res.stderr)
		}
		if c.name == "help" || c.name == "version" {
			continue
		}
		direct := runLinkarc(t, nil, "", c.name, "-help")
		if direct.code != exitOK || direct.stdout != res.stdout {
			t.Errorf("%s -help: exit %d, stdout differs from help %s:\n%s", c.name, direct.code, c.name, direct.stdout)
		}
	}
	res := runLinkarc(t, nil, "", "help", "archive")
	for _, want := range []string{"Usage: linkarc archive [flags] DIR|FILE|URL|-...", "-store string", "-progress string", "(env LINKARC_PROGRESS)"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("help archive lacks %q:\n%s", want, res.stdout)
		}
	}
	list := runLinkarc(t, nil, "", "help")
	for _, c := range commands() {
		if list.code != exitOK || !strings.Contains(list.stdout, "linkarc "+c.name+" ") {
			t.Errorf("help: exit %d, the list lacks %s:\n%s", list.code, c.name, list.stdout)
		}
	}
}

// TestVersionOfBuiltBinary builds linkarc from a clone of this checkout,
// with an uncommitted file in it, and runs `linkarc version`: the first
// line is the module version Go stamped from the commit (a pseudo-version
// naming the revision, "+dirty"), the second the full revision and the
// uncommitted changes. Not "devel".
func TestVersionOfBuiltBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds linkarc")
	}
	root, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Fatalf("git rev-parse: %v", err)
	}
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	rev := strings.TrimSpace(string(head))
	clone := filepath.Join(t.TempDir(), "linkarc")
	if out, err := exec.Command("git", "clone", "-q", "--no-checkout", strings.TrimSpace(string(root)), clone).CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v\n%s", err, out)
	}
	if out, err := exec.Command("git", "-C", clone, "checkout", "-q", rev).CombinedOutput(); err != nil {
		t.Fatalf("git checkout: %v\n%s", err, out)
	}
	if err := os.WriteFile(filepath.Join(clone, "uncommitted.txt"), []byte("a local change\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "linkarc")
	build := exec.Command("go", "build", "-buildvcs=true", "-o", bin, "./cmd/linkarc")
	build.Dir = clone
	build.Env = append(os.Environ(), "GOFLAGS=-buildvcs=true")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatalf("linkarc version: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	first := regexp.MustCompile(`^linkarc v\d+\.\d+\.\d+-(?:\d+\.)?\d{14}-` + rev[:12] + `\+dirty$`)
	if len(lines) != 3 || !first.MatchString(lines[0]) ||
		!regexp.MustCompile(`^revision `+rev+` \(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\), with uncommitted changes$`).MatchString(lines[1]) ||
		!strings.HasPrefix(lines[2], "built with go") {
		t.Errorf("linkarc version printed:\n%s\nwant the pseudo-version of %s with +dirty, then the revision with uncommitted changes", out, rev)
	}
	for _, flag := range []string{"--version", "-version"} {
		again, err := exec.Command(bin, flag).Output()
		if err != nil || string(again) != string(out) {
			t.Errorf("linkarc %s: %v\n%s", flag, err, again)
		}
	}
}

// TestWriteVersion covers the shapes build information comes in.
func TestWriteVersion(t *testing.T) {
	rev := "0123456789abcdef0123456789abcdef01234567"
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		in   buildinfo.Info
		want string
	}{
		{buildinfo.Info{Module: "v1.2.0", Revision: rev, Time: at, Go: "go1.26.8", Platform: "linux/amd64"},
			"linkarc v1.2.0\nrevision " + rev + " (2026-01-02T03:04:05Z)\nbuilt with go1.26.8 for linux/amd64\n"},
		{buildinfo.Info{Revision: rev, Modified: true, Go: "go1.26.8", Platform: "linux/amd64"},
			"linkarc devel+0123456789ab-dirty\nrevision " + rev + ", with uncommitted changes\nbuilt with go1.26.8 for linux/amd64\n"},
		{buildinfo.Info{Go: "go1.26.8", Platform: "linux/amd64"},
			"linkarc devel\nrevision unknown: built without version control information (go build -buildvcs=false, or outside a git checkout)\nbuilt with go1.26.8 for linux/amd64\n"},
	} {
		var sb strings.Builder
		writeVersion(&sb, tc.in)
		if sb.String() != tc.want {
			t.Errorf("writeVersion(%+v) =\n%s\nwant\n%s", tc.in, sb.String(), tc.want)
		}
	}
}

// TestServeMissingStore: serve with a store that does not exist says so
// and exits 2, and creates nothing: not a directory, not a bucket.
func TestServeMissingStore(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-such-archive")
	res := runLinkarc(t, nil, "", "serve", "--store", missing, "--addr", "127.0.0.1:0", "--index-dir", "memory")
	want := `linkarc serve: no archive: store "` + missing + `": the directory does not exist.`
	if res.code != exitUsage || !strings.HasPrefix(res.stderr, want+"\n") || !strings.Contains(res.stderr, "--store") {
		t.Errorf("exit %d, stderr %q; want exit 2 and %q", res.code, res.stderr, want)
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("serve created %s: %v", missing, err)
	}

	bucket := "no-such-bucket-" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))
	res = runLinkarc(t, minioServer.Env(), "", "serve", "--store", "s3://"+bucket+"/archive", "--addr", "127.0.0.1:0", "--index-dir", "memory")
	if res.code != exitUsage || !strings.Contains(res.stderr, "linkarc serve: no archive: ") || !strings.Contains(res.stderr, "the bucket does not exist.") {
		t.Errorf("missing bucket: exit %d, stderr %q", res.code, res.stderr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := storage.OpenExisting(ctx, "s3://"+bucket, minioServer.S3Config()); !storage.IsNotExist(err) && !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("serve created the bucket %s: %v", bucket, err)
	}
}

// TestS3CredentialsRefused runs commands against the real MinIO with
// credentials it refuses: an unknown access key (InvalidAccessKeyId) and
// a known key with the wrong secret (SignatureDoesNotMatch). Each exits 2 and says which access key id was
// used and where it was read from, and how to set others; the secret
// never appears.
func TestS3CredentialsRefused(t *testing.T) {
	bucket := minioServer.NewBucket(t)
	digests := linklessDigest(t)
	const secret = "not-the-secret-0123456789"
	for _, tc := range []struct {
		name string
		key  string
		code string
	}{
		{"unknown key", "NOSUCHKEY1234", "InvalidAccessKeyId"},
		{"wrong secret", minioServer.AccessKey, "SignatureDoesNotMatch"},
	} {
		env := []string{"AWS_ENDPOINT_URL=" + minioServer.Endpoint(), "AWS_ACCESS_KEY_ID=" + tc.key,
			"AWS_SECRET_ACCESS_KEY=" + secret, "AWS_REGION=us-east-1", "AWS_PROFILE=work"}
		for _, args := range [][]string{
			{"serve", "--store", "s3://" + bucket, "--addr", "127.0.0.1:0", "--index-dir", "memory"},
			{"archive", "--store", "s3://" + bucket, "--store-retry", "0", "--progress", "none", digests},
			{"export", "--store", "s3://" + bucket, "--format", "jsonl", "--out", filepath.Join(t.TempDir(), "x.jsonl")},
		} {
			res := runLinkarc(t, env, "", args...)
			for _, want := range []string{
				"linkarc " + args[0] + ": ",
				"S3 refused the credentials (" + tc.code + ")",
				`The access key id used was "` + tc.key + `", from the environment variable AWS_ACCESS_KEY_ID, with the secret in AWS_SECRET_ACCESS_KEY.`,
				"AWS_PROFILE=work is set, but linkarc does not read profiles",
				"Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
			} {
				if !strings.Contains(res.stderr, want) {
					t.Errorf("%s, %s: stderr lacks %q:\n%s", tc.name, args[0], want, res.stderr)
				}
			}
			if res.code != exitUsage || strings.Contains(res.stderr, secret) {
				t.Errorf("%s, %s: exit %d (want 2), or the secret shown:\n%s", tc.name, args[0], res.code, res.stderr)
			}
		}
	}
}
