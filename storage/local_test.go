package storage_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/storagetest"
)

func newLocal(t testing.TB) *storage.Local {
	t.Helper()
	s, err := storage.NewLocal(filepath.Join(t.TempDir(), "archive"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestLocalConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store { return newLocal(t) })
}

func TestNewLocal(t *testing.T) {
	tmp := t.TempDir()
	file := filepath.Join(tmp, "file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		dir     string
		wantErr string
	}{
		{"creates nested directories", filepath.Join(tmp, "a", "b", "c"), ""},
		{"existing directory", tmp, ""},
		{"relative path", "testdata-does-not-matter/../" + filepath.Base(tmp), ""},
		{"empty", "", "empty directory"},
		{"a file", file, "not a directory"},
		{"below a file", filepath.Join(file, "sub"), "not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "relative path" {
				t.Chdir(filepath.Dir(tmp))
			}
			s, err := storage.NewLocal(tt.dir)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("NewLocal(%q) = %v, want error containing %q", tt.dir, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewLocal(%q): %v", tt.dir, err)
			}
			if fi, err := os.Stat(s.Dir()); err != nil || !fi.IsDir() || !filepath.IsAbs(s.Dir()) {
				t.Errorf("Dir() = %q: %v", s.Dir(), err)
			}
		})
	}
}

// The archive on disk is browsable: every object is a plain file at its key.
func TestLocalFilesAtKeys(t *testing.T) {
	s := newLocal(t)
	ctx := t.Context()
	key := "articles/новости-дня/meta.json"
	if err := s.Put(ctx, key, strings.NewReader(`{"slug":"x"}`), -1, storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(s.Dir(), "articles", "новости-дня", "meta.json"))
	if err != nil || string(b) != `{"slug":"x"}` {
		t.Errorf("file at key: %q, %v", b, err)
	}
}

// Failed Puts leave no temporary files behind on disk (List hides them, so
// the conformance suite cannot see them).
func TestLocalFailedPutLeavesNoTempFile(t *testing.T) {
	s := newLocal(t)
	ctx := t.Context()
	errBoom := errors.New("boom")
	bad := []struct {
		name string
		r    io.Reader
		size int64
	}{
		{"reader error", io.MultiReader(strings.NewReader("partial"), errReader{errBoom}), -1},
		{"short reader", strings.NewReader("short"), 100},
		{"long reader", strings.NewReader("longer than three"), 3},
	}
	for _, b := range bad {
		if err := s.Put(ctx, "a/b/obj", b.r, b.size, storage.PutOptions{}); err == nil {
			t.Errorf("%s: Put succeeded", b.name)
		}
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.Put(canceled, "a/b/obj", strings.NewReader("x"), 1, storage.PutOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled Put = %v", err)
	}
	if files := filesUnder(t, s.Dir()); len(files) != 0 {
		t.Errorf("files left on disk after failed Puts: %q", files)
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func filesUnder(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// Files no key can name (left by a crash, or by other tools) are not listed.
func TestLocalListSkipsForeignFiles(t *testing.T) {
	s := newLocal(t)
	ctx := t.Context()
	if err := s.Put(ctx, "articles/x/meta.json", strings.NewReader("{}"), 2, storage.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(s.Dir(), "articles", "x")
	for _, name := range []string{".linkarc-tmp-0123456789abcdef", `back\slash`, "bad\xffname", "ctrl\x01"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("junk"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, ".linkarc-tmp-dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".linkarc-tmp-dir", "inner"), []byte("junk"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("meta.json", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	var got []string
	if err := s.List(ctx, "", func(i storage.Info) error { got = append(got, i.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []string{"articles/x/meta.json"}) {
		t.Errorf("List = %q, want only articles/x/meta.json", got)
	}
	if _, err := s.Get(ctx, "articles/x/.linkarc-tmp-0123456789abcdef"); !errors.Is(err, storage.ErrInvalidKey) {
		t.Errorf("Get of a temporary file = %v, want ErrInvalidKey", err)
	}
}

// Delete prunes the directories it empties, and only those.
func TestLocalDeletePrunesEmptyDirs(t *testing.T) {
	s := newLocal(t)
	ctx := t.Context()
	for _, k := range []string{"a/b/c/one", "a/two"} {
		if err := s.Put(ctx, k, bytes.NewReader(nil), 0, storage.PutOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Delete(ctx, "a/b/c/one"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(s.Dir(), "a", "b")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a/b still exists after its last object was deleted: %v", err)
	}
	if _, err := os.Stat(filepath.Join(s.Dir(), "a", "two")); err != nil {
		t.Errorf("a/two: %v", err)
	}
	if err := s.Delete(ctx, "a/two"); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(s.Dir())
	if err != nil {
		t.Fatalf("the store's own directory must survive: %v", err)
	}
	if len(entries) != 0 {
		t.Errorf("store directory not empty: %v", entries)
	}
}
