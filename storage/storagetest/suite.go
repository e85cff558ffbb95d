// Package storagetest holds what tests need to trust a storage.Store: the
// conformance suite every backend must pass (Run) and a real MinIO server
// for tests that use S3 (StartMinIO, Main).
package storagetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linkarc/linkarc/storage"
)

// Run runs the conformance suite against the stores newStore returns. Each
// subtest calls newStore once and expects an empty store of its own; the
// subtests run in parallel.
//
// The suite is written against the Store contract only (in the spirit of
// restic's backend tests and rclone's fstests), so a backend earns trust by
// passing it rather than by tests of its own.
func Run(t *testing.T, newStore func(t *testing.T) storage.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, storage.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"Overwrite", testOverwrite},
		{"FailedPutKeepsOld", testFailedPutKeepsOld},
		{"FailedPutCreatesNothing", testFailedPutCreatesNothing},
		{"Stat", testStat},
		{"ListOrder", testListOrder},
		{"ListPagination", testListPagination},
		{"ListCallbackErrorStops", testListCallbackError},
		{"Delete", testDelete},
		{"InvalidKeys", testInvalidKeys},
		{"Missing", testMissing},
		{"KeyUnderObject", testKeyUnderObject},
		{"ConcurrentDistinctKeys", testConcurrentDistinct},
		{"ConcurrentSameKey", testConcurrentSameKey},
		{"UTF8Keys", testUTF8Keys},
		{"ContextCanceled", testContextCanceled},
		{"ConditionalCreate", testCondCreate},
		{"ConditionalReplace", testCondReplace},
		{"ConditionalConcurrentCreate", testCondConcurrentCreate},
		{"ConditionalCounter", testCondCounter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, newStore(t))
		})
	}
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func put(t *testing.T, s storage.Store, key string, data []byte) {
	t.Helper()
	if err := s.Put(ctxFor(t), key, bytes.NewReader(data), int64(len(data)), storage.PutOptions{}); err != nil {
		t.Fatalf("Put(%q, %d bytes): %v", key, len(data), err)
	}
}

func list(t *testing.T, s storage.Store, prefix string) []storage.Info {
	t.Helper()
	var got []storage.Info
	err := s.List(ctxFor(t), prefix, func(i storage.Info) error {
		got = append(got, i)
		return nil
	})
	if err != nil {
		t.Fatalf("List(%q): %v", prefix, err)
	}
	return got
}

func keys(infos []storage.Info) []string {
	out := make([]string, len(infos))
	for i, in := range infos {
		out[i] = in.Key
	}
	return out
}

// randomData is n pseudo-random bytes, reproducible from seed.
func randomData(seed uint64, n int) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)})
	r.Read(b)
	return b
}

// stream yields n pseudo-random bytes without ever holding them all, and is
// deliberately not an io.Seeker or io.ReaderAt, like a network body.
type stream struct {
	r    *rand.ChaCha8
	left int64
	sum  []byte // SHA-256 of what was produced, once done
	h    hash.Hash
}

func newStream(seed uint64, n int64) *stream {
	return &stream{r: rand.NewChaCha8([32]byte{byte(seed), 1}), left: n, h: sha256.New()}
}

func (s *stream) Read(p []byte) (int, error) {
	if s.left == 0 {
		if s.sum == nil {
			s.sum = s.h.Sum(nil)
		}
		return 0, io.EOF
	}
	if int64(len(p)) > s.left {
		p = p[:s.left]
	}
	n, _ := s.r.Read(p)
	s.h.Write(p[:n])
	s.left -= int64(n)
	return n, nil
}

// failingReader yields good bytes and then err, as a dropped upload does.
type failingReader struct {
	r   io.Reader
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, f.err
	}
	return n, err
}

func sha(b []byte) string { s := sha256.Sum256(b); return fmt.Sprintf("%x", s) }

func testRoundTrip(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	tests := []struct {
		name    string
		key     string
		size    int
		unknown bool // pass -1 as size
	}{
		{"empty", "rt/empty", 0, false},
		{"empty unknown size", "rt/empty-unknown", 0, true},
		{"one byte", "rt/one", 1, false},
		{"small", "articles/some-slug/meta.json", 1234, false},
		{"small unknown size", "articles/some-slug/text.txt", 4321, true},
		{"3 MiB", "articles/big/raw.html", 3 << 20, false},
		{"deep key", "a/b/c/d/e/f/g/h", 10, false},
		{"dots and spaces", "rt/.hidden/a b.c..d", 10, false},
	}
	for _, tt := range tests {
		data := randomData(uint64(tt.size), tt.size)
		size := int64(len(data))
		if tt.unknown {
			size = -1
		}
		// io.MultiReader hides bytes.Reader's Seek and ReadAt.
		if err := s.Put(ctx, tt.key, io.MultiReader(bytes.NewReader(data)), size, storage.PutOptions{}); err != nil {
			t.Errorf("%s: Put: %v", tt.name, err)
			continue
		}
		if got := ReadObject(t, s, tt.key); !bytes.Equal(got, data) {
			t.Errorf("%s: Get returned %d bytes (sha %s), want %d (sha %s)", tt.name, len(got), sha(got)[:12], len(data), sha(data)[:12])
		}
		info, err := s.Stat(ctx, tt.key)
		if err != nil || info.Size != int64(tt.size) || info.Key != tt.key {
			t.Errorf("%s: Stat = %+v, %v; want key %q size %d", tt.name, info, err, tt.key, tt.size)
		}
	}

	// A multi-MiB object of unknown size, streamed: larger than an S3
	// multipart part, so the streaming upload path is exercised.
	const n = 12<<20 + 333
	src := newStream(7, n)
	if err := s.Put(ctx, "rt/streamed", src, -1, storage.PutOptions{ContentType: "application/octet-stream"}); err != nil {
		t.Fatalf("Put streamed: %v", err)
	}
	rc, err := s.Get(ctx, "rt/streamed")
	if err != nil {
		t.Fatalf("Get streamed: %v", err)
	}
	defer rc.Close()
	h := sha256.New()
	got, err := io.Copy(h, rc)
	if err != nil {
		t.Fatalf("read streamed: %v", err)
	}
	if got != n || !bytes.Equal(h.Sum(nil), src.sum) {
		t.Errorf("streamed object: got %d bytes, sha %x; want %d bytes, sha %x", got, h.Sum(nil), n, src.sum)
	}
}

func testOverwrite(t *testing.T, s storage.Store) {
	for i, content := range []string{"first version", "a second, longer version of the object", "3", ""} {
		put(t, s, "ow/key", []byte(content))
		if got := string(ReadObject(t, s, "ow/key")); got != content {
			t.Errorf("after write %d: Get = %q, want %q", i, got, content)
		}
		if l := list(t, s, "ow/"); len(l) != 1 || l[0].Key != "ow/key" || l[0].Size != int64(len(content)) {
			t.Errorf("after write %d: List = %+v, want one object of %d bytes", i, l, len(content))
		}
	}
}

var errBoom = errors.New("storagetest: reader failed")

// badPuts are Puts that must fail and leave the store as it was.
func badPuts(t *testing.T) []struct {
	name string
	put  func(ctx context.Context, s storage.Store, key string) error
} {
	data := randomData(3, 1<<20)
	return []struct {
		name string
		put  func(ctx context.Context, s storage.Store, key string) error
	}{
		{"reader fails half-way, known size", func(ctx context.Context, s storage.Store, key string) error {
			return s.Put(ctx, key, &failingReader{bytes.NewReader(data[:len(data)/2]), errBoom}, int64(len(data)), storage.PutOptions{})
		}},
		{"reader fails half-way, unknown size", func(ctx context.Context, s storage.Store, key string) error {
			return s.Put(ctx, key, &failingReader{bytes.NewReader(data[:len(data)/2]), errBoom}, -1, storage.PutOptions{})
		}},
		{"reader fails after 7 MiB, unknown size", func(ctx context.Context, s storage.Store, key string) error {
			// Past the first part of an S3 multipart upload.
			return s.Put(ctx, key, &failingReader{newStream(9, 7<<20), errBoom}, -1, storage.PutOptions{})
		}},
		{"reader shorter than size", func(ctx context.Context, s storage.Store, key string) error {
			return s.Put(ctx, key, io.MultiReader(bytes.NewReader(data[:100])), int64(len(data)), storage.PutOptions{})
		}},
		{"reader longer than size", func(ctx context.Context, s storage.Store, key string) error {
			return s.Put(ctx, key, io.MultiReader(bytes.NewReader(data)), 100, storage.PutOptions{})
		}},
		{"context canceled mid-stream", func(ctx context.Context, s storage.Store, key string) error {
			ctx, cancel := context.WithCancel(ctx)
			defer cancel()
			return s.Put(ctx, key, &cancelingReader{r: newStream(4, 3<<20), after: 1 << 20, cancel: cancel}, -1, storage.PutOptions{})
		}},
	}
}

// cancelingReader cancels its context after some bytes, as a caller giving
// up on a slow upload does.
type cancelingReader struct {
	r      io.Reader
	n      int
	after  int
	cancel context.CancelFunc
}

func (c *cancelingReader) Read(p []byte) (int, error) {
	if c.n >= c.after {
		c.cancel()
	}
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func testFailedPutKeepsOld(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	old := []byte("the old object, which must survive")
	for i, bp := range badPuts(t) {
		key := fmt.Sprintf("fail/%d/meta.json", i)
		put(t, s, key, old)
		if err := bp.put(ctx, s, key); err == nil {
			t.Errorf("%s: Put succeeded, want an error", bp.name)
		}
		if got := ReadObject(t, s, key); !bytes.Equal(got, old) {
			t.Errorf("%s: after the failed Put, Get = %d bytes %.40q, want the old object", bp.name, len(got), got)
		}
		if l := list(t, s, fmt.Sprintf("fail/%d/", i)); len(l) != 1 || l[0].Key != key || l[0].Size != int64(len(old)) {
			t.Errorf("%s: after the failed Put, List = %+v, want only the old object", bp.name, l)
		}
	}
}

func testFailedPutCreatesNothing(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	for i, bp := range badPuts(t) {
		key := fmt.Sprintf("new/%d/raw.html", i)
		if err := bp.put(ctx, s, key); err == nil {
			t.Errorf("%s: Put succeeded, want an error", bp.name)
		}
		if _, err := s.Stat(ctx, key); !storage.IsNotExist(err) {
			t.Errorf("%s: Stat after failed Put: err = %v, want not-exist", bp.name, err)
		}
	}
	if l := list(t, s, ""); len(l) != 0 {
		t.Errorf("after failed Puts of new keys, List = %v, want nothing", keys(l))
	}
}

func testStat(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	// S3 keeps modification times to the second.
	before := time.Now().Add(-2 * time.Second)
	put(t, s, "stat/obj", []byte("12345"))
	after := time.Now().Add(2 * time.Second)
	info, err := s.Stat(ctx, "stat/obj")
	if err != nil {
		t.Fatal(err)
	}
	if info.Key != "stat/obj" || info.Size != 5 {
		t.Errorf("Stat = %+v, want key stat/obj, size 5", info)
	}
	if info.ModTime.Before(before) || info.ModTime.After(after) {
		t.Errorf("Stat ModTime = %v, want between %v and %v", info.ModTime, before, after)
	}
	l := list(t, s, "stat/")
	if len(l) != 1 || l[0].Key != info.Key || l[0].Size != info.Size || l[0].ModTime.Sub(info.ModTime).Abs() > time.Second {
		t.Errorf("List = %+v, want the Stat result %+v", l, info)
	}
}

func testListOrder(t *testing.T, s storage.Store) {
	// Chosen so that key order differs from directory walk order: "/"
	// sorts after " ", "-" and ".", and before "0" and letters.
	all := []string{
		"articles/a/b",
		"articles/a-b/y",
		"articles/a.b",
		"articles/a b/z",
		"articles/a0",
		"articles/ab/x",
		"articles/ab/x2/deep",
		"articles/abc",
		"articles/A/upper",
		"articles/z/meta.json",
		"articles/новости-дня/meta.json",
		"cache/gnews/k.json",
		"digests/d.json",
		"digests-old.json",
		"x",
	}
	for i, k := range all {
		put(t, s, k, bytes.Repeat([]byte{'x'}, i)) // distinct sizes
	}
	sizes := map[string]int64{}
	for i, k := range all {
		sizes[k] = int64(i)
	}
	for _, prefix := range []string{
		"", "articles/", "articles/a", "articles/a/", "articles/ab", "articles/ab/", "articles/a-",
		"articles/a.", "art", "articles/новости", "articles/н", "digests", "digests/", "nothing/",
		"nothing", "articles/zz", "x", "xy",
	} {
		var want []string
		for _, k := range all {
			if strings.HasPrefix(k, prefix) {
				want = append(want, k)
			}
		}
		slices.Sort(want)
		got := list(t, s, prefix)
		if !slices.Equal(keys(got), want) {
			t.Errorf("List(%q) =\n\t%q\nwant\n\t%q", prefix, keys(got), want)
			continue
		}
		for _, in := range got {
			if in.Size != sizes[in.Key] {
				t.Errorf("List(%q): %s has size %d, want %d", prefix, in.Key, in.Size, sizes[in.Key])
			}
		}
	}
}

// testListPagination lists more objects than one S3 list page holds.
func testListPagination(t *testing.T, s storage.Store) {
	const n = 1100
	var want []string
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 8)
	for i := range n {
		// Deliberately not zero-padded: key order is not numeric order.
		k := fmt.Sprintf("many/%d", i*7919%n)
		want = append(want, k)
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			errs <- s.Put(ctxFor(t), k, strings.NewReader("x"), 1, storage.PutOptions{})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(want)
	if got := keys(list(t, s, "many/")); !slices.Equal(got, want) {
		t.Errorf("List of %d objects returned %d, first differences: %v", n, len(got), firstDiff(got, want))
	}
	var want10 []string
	for _, k := range want {
		if strings.HasPrefix(k, "many/10") {
			want10 = append(want10, k)
		}
	}
	if got := keys(list(t, s, "many/10")); !slices.Equal(got, want10) {
		t.Errorf("List(many/10) returned %d keys, want %d: %v", len(got), len(want10), firstDiff(got, want10))
	}
}

func firstDiff(got, want []string) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("at %d got %q want %q", i, got[i], want[i])
		}
	}
	return fmt.Sprintf("lengths %d and %d", len(got), len(want))
}

func testListCallbackError(t *testing.T, s storage.Store) {
	for _, k := range []string{"cb/1", "cb/2", "cb/3", "cb/4"} {
		put(t, s, k, []byte(k))
	}
	errStop := errors.New("stop here")
	var seen []string
	err := s.List(ctxFor(t), "cb/", func(i storage.Info) error {
		seen = append(seen, i.Key)
		if len(seen) == 2 {
			return errStop
		}
		return nil
	})
	if !errors.Is(err, errStop) {
		t.Errorf("List returned %v, want the callback's error", err)
	}
	if !slices.Equal(seen, []string{"cb/1", "cb/2"}) {
		t.Errorf("callback saw %v, want [cb/1 cb/2] and then no more calls", seen)
	}
}

func testDelete(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	put(t, s, "del/a/one", []byte("1"))
	put(t, s, "del/a/two", []byte("2"))
	put(t, s, "del/b/deep/three", []byte("3"))
	if err := s.Delete(ctx, "del/a/one"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := s.Get(ctx, "del/a/one"); !storage.IsNotExist(err) {
		t.Errorf("Get after Delete: err = %v, want not-exist", err)
	}
	for _, k := range []string{"del/a/one", "del/never-existed", "del/x/y/z"} {
		if err := s.Delete(ctx, k); err != nil {
			t.Errorf("Delete(%q) of a missing object = %v, want nil", k, err)
		}
	}
	// A prefix of other keys is not an object: deleting it deletes nothing.
	if err := s.Delete(ctx, "del/b"); err != nil {
		t.Errorf("Delete(del/b) = %v, want nil", err)
	}
	if got := keys(list(t, s, "del/")); !slices.Equal(got, []string{"del/a/two", "del/b/deep/three"}) {
		t.Errorf("List after deletes = %q, want [del/a/two del/b/deep/three]", got)
	}
	// Emptying a "directory" and writing into it again works.
	for _, k := range []string{"del/a/two", "del/b/deep/three"} {
		if err := s.Delete(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	if l := list(t, s, ""); len(l) != 0 {
		t.Errorf("List after deleting everything = %v", keys(l))
	}
	put(t, s, "del/b/deep/again", []byte("4"))
	if got := string(ReadObject(t, s, "del/b/deep/again")); got != "4" {
		t.Errorf("Get = %q after re-creating", got)
	}
}

// invalidKeys are keys every backend must refuse.
var invalidKeys = []string{
	"",
	"/",
	"/leading",
	"trailing/",
	"double//slash",
	".",
	"..",
	"./a",
	"a/./b",
	"a/../b",
	"a/..",
	`back\slash`,
	"nul\x00byte",
	"new\nline",
	"tab\tchar",
	"del\x7f",
	"c1\u0085control",
	"bad\xffutf8",
	strings.Repeat("k", storage.MaxKeyLen+1),
	"long/" + strings.Repeat("s", storage.MaxSegmentLen+1),
	"a/.linkarc-tmp-123",
}

func testInvalidKeys(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	for _, k := range invalidKeys {
		if err := s.Put(ctx, k, strings.NewReader("x"), 1, storage.PutOptions{}); !errors.Is(err, storage.ErrInvalidKey) {
			t.Errorf("Put(%q) = %v, want ErrInvalidKey", k, err)
		}
		if rc, err := s.Get(ctx, k); !errors.Is(err, storage.ErrInvalidKey) {
			t.Errorf("Get(%q) = %v, want ErrInvalidKey", k, err)
			if rc != nil {
				rc.Close()
			}
		}
		if _, err := s.Stat(ctx, k); !errors.Is(err, storage.ErrInvalidKey) {
			t.Errorf("Stat(%q) = %v, want ErrInvalidKey", k, err)
		}
		if err := s.Delete(ctx, k); !errors.Is(err, storage.ErrInvalidKey) {
			t.Errorf("Delete(%q) = %v, want ErrInvalidKey", k, err)
		}
	}
	for _, p := range []string{"/", "/a", "a//", "../", "a/../", "./", `a\`, "a\x00", "\xff", strings.Repeat("p", storage.MaxKeyLen+1)} {
		err := s.List(ctx, p, func(storage.Info) error { return nil })
		if !errors.Is(err, storage.ErrInvalidKey) {
			t.Errorf("List(%q) = %v, want ErrInvalidKey", p, err)
		}
	}
	if l := list(t, s, ""); len(l) != 0 {
		t.Errorf("after refused Puts the store holds %q", keys(l))
	}
	// Names that look odd but are valid.
	for _, k := range []string{"a.", "a..b", ".a", "...", "a/-", "trailing space ", "x/.linkarc-tmp"} {
		put(t, s, k, []byte(k))
		if got := string(ReadObject(t, s, k)); got != k {
			t.Errorf("Get(%q) = %q", k, got)
		}
	}
}

func testMissing(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	put(t, s, "miss/dir/obj", []byte("x"))
	for _, k := range []string{"miss/none", "miss/dir", "miss/dir/obj/child", "miss/dir/ob", "none/at/all"} {
		rc, err := s.Get(ctx, k)
		if !storage.IsNotExist(err) {
			t.Errorf("Get(%q) = %v, want not-exist", k, err)
		}
		if rc != nil {
			t.Errorf("Get(%q) returned a reader with its error", k)
			rc.Close()
		}
		if _, err := s.Stat(ctx, k); !storage.IsNotExist(err) {
			t.Errorf("Stat(%q) = %v, want not-exist", k, err)
		}
	}
}

// testKeyUnderObject puts a key below an existing object's key, and an
// object at a key other objects live below. S3 allows both; a file system
// cannot. Either is fine as long as nothing is lost.
func testKeyUnderObject(t *testing.T, s storage.Store) {
	ctx := ctxFor(t)
	put(t, s, "clash/obj", []byte("object"))
	if err := s.Put(ctx, "clash/obj/sub", strings.NewReader("sub"), 3, storage.PutOptions{}); err == nil {
		if got := string(ReadObject(t, s, "clash/obj/sub")); got != "sub" {
			t.Errorf("Get(clash/obj/sub) = %q after a successful Put", got)
		}
	}
	if err := s.Put(ctx, "clash", strings.NewReader("top"), 3, storage.PutOptions{}); err == nil {
		if got := string(ReadObject(t, s, "clash")); got != "top" {
			t.Errorf("Get(clash) = %q after a successful Put", got)
		}
	}
	if got := string(ReadObject(t, s, "clash/obj")); got != "object" {
		t.Errorf("Get(clash/obj) = %q, want the original object", got)
	}
}

func testConcurrentDistinct(t *testing.T, s storage.Store) {
	const writers, perWriter = 8, 6
	var wg sync.WaitGroup
	errs := make(chan error, 2*writers*perWriter)
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				k := fmt.Sprintf("conc/d%d/w%d-%d", i%2, w, i)
				errs <- s.Put(ctxFor(t), k, strings.NewReader(k), int64(len(k)), storage.PutOptions{})
			}
		})
		// Churn in the same directories: create and delete siblings, so a
		// backend that prunes empty directories races the writers.
		wg.Go(func() {
			for i := range perWriter {
				k := fmt.Sprintf("conc/d%d/tmp%d", i%2, w)
				if err := s.Put(ctxFor(t), k, strings.NewReader("t"), 1, storage.PutOptions{}); err != nil {
					errs <- err
				}
				errs <- s.Delete(ctxFor(t), k)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	got := list(t, s, "conc/")
	if len(got) != writers*perWriter {
		t.Errorf("List found %d objects, want %d: %q", len(got), writers*perWriter, keys(got))
	}
	for _, in := range got {
		if b := string(ReadObject(t, s, in.Key)); b != in.Key {
			t.Errorf("Get(%q) = %q", in.Key, b)
		}
	}
}

func testConcurrentSameKey(t *testing.T, s storage.Store) {
	const writers = 6
	want := map[string]bool{}
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		data := randomData(uint64(100+w), 256<<10)
		want[sha(data)] = true
		wg.Go(func() {
			errs <- s.Put(ctxFor(t), "same/key", bytes.NewReader(data), int64(len(data)), storage.PutOptions{})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if got := ReadObject(t, s, "same/key"); !want[sha(got)] {
		t.Errorf("after concurrent Puts the object (%d bytes) is none of the versions written", len(got))
	}
	if l := list(t, s, "same/"); len(l) != 1 {
		t.Errorf("List = %q, want only same/key", keys(l))
	}
}

func testUTF8Keys(t *testing.T, s storage.Store) {
	all := []string{
		"articles/новости-дня/meta.json",
		"articles/новости-дня/text.txt",
		"articles/новости/meta.json",
		"articles/日本語の記事/meta.json",
		"articles/émigré-café/meta.json",
		"articles/emoji-😀/meta.json",
		"articles/Ωmega/raw.html",
		"digests/дайджест-2024-01-01.json",
	}
	for _, k := range all {
		put(t, s, k, []byte(k))
	}
	for _, k := range all {
		if got := string(ReadObject(t, s, k)); got != k {
			t.Errorf("Get(%q) = %q", k, got)
		}
		if in, err := s.Stat(ctxFor(t), k); err != nil || in.Key != k || in.Size != int64(len(k)) {
			t.Errorf("Stat(%q) = %+v, %v", k, in, err)
		}
	}
	want := slices.Clone(all)
	slices.Sort(want)
	if got := keys(list(t, s, "")); !slices.Equal(got, want) {
		t.Errorf("List = %q\nwant %q", got, want)
	}
	wantNews := []string{"articles/новости-дня/meta.json", "articles/новости-дня/text.txt", "articles/новости/meta.json"}
	if got := keys(list(t, s, "articles/новости")); !slices.Equal(got, wantNews) {
		t.Errorf("List(articles/новости) = %q, want %q", got, wantNews)
	}
}

func testContextCanceled(t *testing.T, s storage.Store) {
	put(t, s, "ctx/exists", []byte("still here"))
	ctx, cancel := context.WithCancel(ctxFor(t))
	cancel()
	if err := s.Put(ctx, "ctx/new", strings.NewReader("x"), 1, storage.PutOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Put with canceled context = %v, want context.Canceled", err)
	}
	if rc, err := s.Get(ctx, "ctx/exists"); !errors.Is(err, context.Canceled) {
		t.Errorf("Get with canceled context = %v, want context.Canceled", err)
		if rc != nil {
			rc.Close()
		}
	}
	if _, err := s.Stat(ctx, "ctx/exists"); !errors.Is(err, context.Canceled) {
		t.Errorf("Stat with canceled context = %v, want context.Canceled", err)
	}
	if err := s.Delete(ctx, "ctx/exists"); !errors.Is(err, context.Canceled) {
		t.Errorf("Delete with canceled context = %v, want context.Canceled", err)
	}
	if err := s.List(ctx, "", func(storage.Info) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("List with canceled context = %v, want context.Canceled", err)
	}
	if got := keys(list(t, s, "")); !slices.Equal(got, []string{"ctx/exists"}) {
		t.Errorf("after canceled calls the store holds %q, want [ctx/exists]", got)
	}

	// Canceled during a listing: no more callbacks.
	for i := range 5 {
		put(t, s, fmt.Sprintf("ctx/l%d", i), []byte("x"))
	}
	ctx, cancel = context.WithCancel(ctxFor(t))
	defer cancel()
	calls := 0
	err := s.List(ctx, "ctx/l", func(storage.Info) error {
		calls++
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) || calls != 1 {
		t.Errorf("List canceled in its first callback: err = %v after %d calls, want context.Canceled after 1", err, calls)
	}
}
