package storagetest

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"sync"
	"testing"

	"github.com/linkarc/linkarc/storage"
)

// conditional returns s as a storage.Conditional, skipping the test for a
// store that has no conditional writes (a retrying wrapper around one).
func conditional(t *testing.T, s storage.Store) storage.Conditional {
	t.Helper()
	c, ok := storage.AsConditional(s)
	if !ok {
		t.Skip("the store has no conditional writes")
	}
	return c
}

// MustConditional returns s as a storage.Conditional, failing the test
// for a store that cannot write conditionally: for tests that wrap a
// store and must pass its conditional writes on.
func MustConditional(tb testing.TB, s storage.Store) storage.Conditional {
	tb.Helper()
	c, ok := storage.AsConditional(s)
	if !ok {
		tb.Fatal("the store cannot write conditionally")
	}
	return c
}

func putIf(t *testing.T, c storage.Conditional, key, ifMatch string, data []byte) (string, error) {
	t.Helper()
	return c.PutIf(ctxFor(t), key, bytes.NewReader(data), int64(len(data)), ifMatch, storage.PutOptions{ContentType: "application/json"})
}

func getVersion(t *testing.T, c storage.Conditional, key string) ([]byte, string) {
	t.Helper()
	rc, etag, err := c.GetVersion(ctxFor(t), key)
	if err != nil {
		t.Fatalf("GetVersion(%q): %v", key, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %q: %v", key, err)
	}
	return data, etag
}

// testCondCreate: PutIf with no ETag creates once; a second create fails
// with ErrPreconditionFailed and changes nothing.
func testCondCreate(t *testing.T, s storage.Store) {
	c := conditional(t, s)
	const key = "leases/a.json"
	etag1, err := putIf(t, c, key, "", []byte(`{"v":1}`))
	if err != nil || etag1 == "" {
		t.Fatalf("create: etag %q, %v", etag1, err)
	}
	if _, err := putIf(t, c, key, "", []byte(`{"v":2}`)); !errors.Is(err, storage.ErrPreconditionFailed) {
		t.Fatalf("second create: %v, want ErrPreconditionFailed", err)
	}
	data, etag := getVersion(t, c, key)
	if string(data) != `{"v":1}` || etag != etag1 {
		t.Fatalf("after a refused create: %q etag %q, want the first version (etag %q)", data, etag, etag1)
	}
}

// testCondReplace: PutIf with the ETag read replaces once; the old ETag, a
// made-up one, and any ETag of a missing object fail; after Delete, create
// works again.
func testCondReplace(t *testing.T, s storage.Store) {
	c := conditional(t, s)
	const key = "leases/b.json"
	etag1, err := putIf(t, c, key, "", []byte("one"))
	if err != nil {
		t.Fatal(err)
	}
	etag2, err := putIf(t, c, key, etag1, []byte("two"))
	if err != nil || etag2 == "" || etag2 == etag1 {
		t.Fatalf("replace: etag %q (first %q), %v", etag2, etag1, err)
	}
	for _, stale := range []string{etag1, "0123456789abcdef0123456789abcdef"} {
		if _, err := putIf(t, c, key, stale, []byte("three")); !errors.Is(err, storage.ErrPreconditionFailed) {
			t.Fatalf("replace with ETag %q: %v, want ErrPreconditionFailed", stale, err)
		}
	}
	if data, etag := getVersion(t, c, key); string(data) != "two" || etag != etag2 {
		t.Fatalf("got %q etag %q, want %q etag %q", data, etag, "two", etag2)
	}
	if _, err := putIf(t, c, "leases/missing.json", etag2, []byte("x")); !errors.Is(err, storage.ErrPreconditionFailed) {
		t.Fatalf("replace of a missing object: %v, want ErrPreconditionFailed", err)
	}
	if _, err := s.Stat(ctxFor(t), "leases/missing.json"); !storage.IsNotExist(err) {
		t.Fatalf("a refused replace created the object: %v", err)
	}
	if _, _, err := c.GetVersion(ctxFor(t), "leases/missing.json"); !storage.IsNotExist(err) {
		t.Fatalf("GetVersion of a missing object: %v, want IsNotExist", err)
	}
	if err := s.Delete(ctxFor(t), key); err != nil {
		t.Fatal(err)
	}
	if _, err := putIf(t, c, key, "", []byte("again")); err != nil {
		t.Fatalf("create after delete: %v", err)
	}
}

// testCondConcurrentCreate: of writers creating one key at once, exactly
// one succeeds, and the object is its.
func testCondConcurrentCreate(t *testing.T, s storage.Store) {
	c := conditional(t, s)
	const key, writers = "leases/c.json", 8
	var wg sync.WaitGroup
	results := make([]error, writers)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, results[i] = putIf(t, c, key, "", []byte("writer "+strconv.Itoa(i)))
		}()
	}
	wg.Wait()
	winner := -1
	for i, err := range results {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("writers %d and %d both created the object", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, storage.ErrPreconditionFailed):
			t.Fatalf("writer %d: %v", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no writer created the object")
	}
	if data, _ := getVersion(t, c, key); string(data) != "writer "+strconv.Itoa(winner) {
		t.Fatalf("object %q, want writer %d's", data, winner)
	}
}

// testCondCounter: writers increment a counter by read, add one, PutIf with
// the ETag read, again on a failed condition. No increment is lost: the
// compare-and-swap is atomic.
func testCondCounter(t *testing.T, s storage.Store) {
	c := conditional(t, s)
	const key, writers, each = "leases/counter", 4, 10
	if _, err := putIf(t, c, key, "", []byte("0")); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for done := 0; done < each; {
				rc, etag, err := c.GetVersion(ctxFor(t), key)
				if err != nil {
					errs <- err
					return
				}
				data, err := io.ReadAll(rc)
				rc.Close()
				if err != nil {
					errs <- err
					return
				}
				n, err := strconv.Atoi(string(data))
				if err != nil {
					errs <- err
					return
				}
				_, err = c.PutIf(ctxFor(t), key, bytes.NewReader([]byte(strconv.Itoa(n+1))), int64(len(strconv.Itoa(n+1))), etag, storage.PutOptions{})
				switch {
				case err == nil:
					done++
				case !errors.Is(err, storage.ErrPreconditionFailed):
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if data, _ := getVersion(t, c, key); string(data) != strconv.Itoa(writers*each) {
		t.Fatalf("counter %s, want %d: an increment was lost", data, writers*each)
	}
}
