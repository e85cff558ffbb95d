package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// completionScript writes `linkarc completion SHELL` to a file.
func completionScript(t *testing.T, shell string) string {
	t.Helper()
	res := runLinkarc(t, nil, "", "completion", shell)
	if res.code != exitOK || res.stderr != "" {
		t.Fatalf("completion %s: exit %d\n%s", shell, res.code, res.stderr)
	}
	p := filepath.Join(t.TempDir(), "linkarc."+shell)
	if err := os.WriteFile(p, []byte(res.stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCompletionBash loads the bash script into a real bash and completes
// command lines the way readline would (COMP_WORDS, COMP_CWORD, then the
// function `complete -p` names): commands, each command's flags, the
// words of flags that take one, directories and files where paths go,
// and --flag=value.
func TestCompletionBash(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatalf("bash: %v", err)
	}
	script := completionScript(t, "bash")
	work := t.TempDir()
	os.Mkdir(filepath.Join(work, "digests"), 0o755)
	os.WriteFile(filepath.Join(work, "digest-notes.md"), []byte("x"), 0o644)
	for _, tc := range []struct {
		line string // the words before the cursor, the last being completed
		want string // COMPREPLY, space-separated
	}{
		{"linkarc re", "resolve reextract"},
		{"linkarc ", "archive resolve serve export reextract dedupe healthcheck completion version help"},
		{"linkarc archive --pro", "--progress"},
		{"linkarc archive --progress ", "auto bar plain none"},
		{"linkarc archive --progress = p", "plain"},
		{"linkarc archive --store dig", "digests"},
		{"linkarc archive dig", "digest-notes.md digests"},
		{"linkarc archive --timeout ", ""},
		{"linkarc serve --st", "--store"},
		{"linkarc serve --addr", "--addr"},
		{"linkarc export --format ", "digests jsonl site wacz"},
		{"linkarc export --status b", "blocked"},
		{"linkarc export --out dig", "digest-notes.md digests"},
		{"linkarc export --log-level w", "warn"},
		{"linkarc reextract --di", "--digest"},
		{"linkarc help ex", "export"},
		{"linkarc completion ", "bash zsh fish"},
		{"linkarc resolve --json ", ""},
	} {
		words := strings.Split(tc.line, " ")
		quoted := make([]string, len(words))
		for i, w := range words {
			quoted[i] = bashQuote(w)
		}
		prog := "source " + bashQuote(script) + "\n" +
			"complete -p linkarc\n" +
			"COMP_WORDS=(" + strings.Join(quoted, " ") + ")\n" +
			"COMP_CWORD=" + itoa(len(words)-1) + "\n" +
			"COMP_LINE=" + bashQuote(tc.line) + "\n" +
			"_linkarc linkarc\n" +
			"IFS=' '; echo \"${COMPREPLY[*]}\"\n"
		cmd := exec.Command(bash, "--norc", "--noprofile", "-c", prog)
		cmd.Dir = work
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%q: bash: %v\n%s", tc.line, err, out)
		}
		lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
		if lines[0] != "complete -F _linkarc linkarc" {
			t.Errorf("complete -p linkarc: %q", lines[0])
		}
		got := ""
		if len(lines) > 1 {
			got = lines[len(lines)-1]
		}
		gotWords, wantWords := strings.Fields(got), strings.Fields(tc.want)
		sortStrings(gotWords)
		sortStrings(wantWords)
		if strings.Join(gotWords, " ") != strings.Join(wantWords, " ") {
			t.Errorf("%q completes to %q, want %q", tc.line, got, tc.want)
		}
	}
}

// TestCompletionZshFish: the zsh script parses and registers _linkarc with
// compinit; the fish script parses, and fish itself completes command
// lines with it (complete -C). Run where the shells are installed (apt-get
// install zsh fish); bash, above, always runs.
func TestCompletionZshFish(t *testing.T) {
	if zsh, err := exec.LookPath("zsh"); err != nil {
		t.Log("zsh is not installed: its script is not checked")
	} else {
		script := completionScript(t, "zsh")
		if out, err := exec.Command(zsh, "-n", script).CombinedOutput(); err != nil {
			t.Errorf("zsh -n: %v\n%s", err, out)
		}
		out, err := exec.Command(zsh, "-fc", "autoload -Uz compinit && compinit -u -D && source "+script+" && print -r -- ${_comps[linkarc]}").CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "_linkarc" {
			t.Errorf("zsh: %v: %q", err, out)
		}
	}
	fish, err := exec.LookPath("fish")
	if err != nil {
		t.Log("fish is not installed: its script is not checked")
		return
	}
	script := completionScript(t, "fish")
	if out, err := exec.Command(fish, "-n", script).CombinedOutput(); err != nil {
		t.Errorf("fish -n: %v\n%s", err, out)
	}
	work := t.TempDir()
	os.Mkdir(filepath.Join(work, "digests"), 0o755)
	for _, tc := range []struct{ line, want string }{
		{"linkarc ex", "export"},
		{"linkarc archive --pro", "--progress"},
		{"linkarc export --format ", "digests jsonl site wacz"},
		{"linkarc serve --store dig", "digests/"},
		{"linkarc archive dig", "digests/"},
	} {
		cmd := exec.Command(fish, "--no-config", "-c", "source "+script+"; complete -C "+fishQuote(tc.line))
		cmd.Dir = work
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("fish: %v\n%s", err, out)
		}
		var got []string
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			word, _, _ := strings.Cut(l, "\t")
			got = append(got, word)
		}
		sortStrings(got)
		want := strings.Fields(tc.want)
		sortStrings(want)
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("fish: %q completes to %q, want %q", tc.line, got, want)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func sortStrings(s []string) { slices.Sort(s) }
