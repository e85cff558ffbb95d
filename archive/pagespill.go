package archive

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/linkarc/linkarc/archive/fetch"
)

// A fetched page waits between its fetch and its store worker's turn to
// extract it: while its requisites are fetched, then behind the captures
// finishing before it (up to Options.HostConcurrency) and the store
// workers' queue. When extraction is the slower side (a run with little
// politeness interval to wait out), every one of those places is full: at
// 20 hosts about 70 pages, 15 MiB of the 68 MiB a heap profile of
// BenchmarkArchivePeakRSS found live at the peak. So a page's body waits
// in a temporary file beside its WARC spill (CaptureOptions.TempDir), and
// is read back by the store worker when its extraction turn comes, or
// briefly by the requisites step to find what the page names.

// spilledPage is a fetched page's body, Capture.Raw and Capture.Body, in a
// temporary file: Raw's bytes, then Body's unless Body is Raw or a part of
// it (charset.ToUTF8 returns the valid UTF-8 page itself, less a byte
// order mark), in which case only its place in Raw is kept.
type spilledPage struct {
	path string
	raw  int // bytes of Raw at the start of the file
	// body is Body's length; from is where it starts in Raw, or -1 when
	// its bytes follow Raw's in the file.
	body, from int
	// nilBody: Body was nil (feeds and pages that failed keep Raw only).
	nilBody bool
}

// spillPage moves c.Raw and c.Body into a new temporary file in dir ("":
// os.TempDir()) and sets both to nil. It returns nil, and leaves c as it
// was, when there is no body to move; on an error c is left as it was too,
// and the page simply waits in memory.
func spillPage(dir string, c *fetch.Capture) (*spilledPage, error) {
	if c == nil || len(c.Raw) == 0 && len(c.Body) == 0 {
		return nil, nil
	}
	f, err := os.CreateTemp(dir, "linkarc-page-*")
	if err != nil {
		return nil, fmt.Errorf("spill the fetched page: %w", err)
	}
	s := &spilledPage{path: f.Name(), raw: len(c.Raw), body: len(c.Body), from: within(c.Raw, c.Body), nilBody: c.Body == nil}
	_, err = f.Write(c.Raw)
	if err == nil && s.from < 0 {
		_, err = f.Write(c.Body)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(s.path)
		return nil, fmt.Errorf("spill the fetched page: %w", err)
	}
	c.Raw, c.Body = nil, nil
	return s, nil
}

// within returns where b starts in a when b is a[i:i+len(b)] (the same
// memory, not equal bytes), else -1.
func within(a, b []byte) int {
	if len(b) == 0 {
		return 0
	}
	i := cap(a) - cap(b)
	if i < 0 || i+len(b) > len(a) || &a[i] != &b[0] {
		return -1
	}
	return i
}

// load reads the body back into c (Raw and Body, Body sharing Raw's memory
// as it did). On an error c is not changed. A nil *spilledPage loads
// nothing: the body is in c.
func (s *spilledPage) load(c *fetch.Capture) error {
	if s == nil {
		return nil
	}
	raw, body, err := s.read()
	if err != nil {
		return err
	}
	c.Raw, c.Body = raw, body
	return nil
}

// read returns Raw and Body as spilled.
func (s *spilledPage) read() (raw, body []byte, err error) {
	f, err := os.Open(s.path)
	if err != nil {
		return nil, nil, fmt.Errorf("read back the fetched page: %w", err)
	}
	defer f.Close()
	n := s.raw
	if s.from < 0 {
		n += s.body
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(f, buf); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			err = fmt.Errorf("the file %s is shorter than the %d bytes written to it", s.path, n)
		}
		return nil, nil, fmt.Errorf("read back the fetched page: %w", err)
	}
	raw = buf[:s.raw:s.raw]
	switch {
	case s.nilBody:
	case s.from >= 0:
		body = raw[s.from : s.from+s.body : s.from+s.body]
	default:
		body = buf[s.raw:]
	}
	return raw, body, nil
}

// Close removes the file. A nil *spilledPage is valid.
func (s *spilledPage) Close() {
	if s != nil {
		os.Remove(s.path)
	}
}
