package warc

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// transferEncodingKept is the name a Transfer-Encoding header is kept under
// once the body it described has been dechunked (see the package comment).
const transferEncodingKept = "X-Crawler-Transfer-Encoding"

// RequestHead renders req as net/http's transport sends it over HTTP/1.1:
// the request line, Host, User-Agent (Go's default when req sets none),
// then req.Header in sorted order, then the empty line. It is the request
// block for Exchange.RequestHead when the bytes actually sent were not
// captured. Two things it cannot know: a transport with compression left on
// adds "Accept-Encoding: gzip" to a request that sets no Accept-Encoding
// (linkarc always sets its own), and HTTP/2 sends the same fields in HPACK,
// which WARC records as this HTTP/1.1 text.
func RequestHead(req *http.Request) []byte {
	var b bytes.Buffer
	target := req.URL.RequestURI()
	if req.Method == http.MethodConnect {
		target = req.URL.Host
	}
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\n", method, target)
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	fmt.Fprintf(&b, "Host: %s\r\n", host)
	if ua, ok := req.Header["User-Agent"]; !ok {
		b.WriteString("User-Agent: Go-http-client/1.1\r\n")
	} else if len(ua) > 0 && ua[0] != "" {
		fmt.Fprintf(&b, "User-Agent: %s\r\n", ua[0])
	}
	_ = req.Header.WriteSubset(&b, map[string]bool{"Host": true, "User-Agent": true})
	if req.ContentLength > 0 && req.Header.Get("Content-Length") == "" {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", req.ContentLength)
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

// ErrDecodedBody is returned by ResponseHead for a response whose body
// net/http has already gunzipped: the bytes as received are gone, so the
// response cannot be recorded faithfully. Set Accept-Encoding on the request
// (then net/http leaves the body alone) and decode it yourself.
var ErrDecodedBody = errors.New("warc: net/http decoded the response body (set Accept-Encoding yourself to keep the bytes as received)")

// ResponseHead renders resp's status line and header fields, sorted, then
// the empty line: the response head for Exchange.ResponseHead when the
// bytes received were not captured. A transfer coding net/http removed is
// written back as the Transfer-Encoding header it came in (which the Writer
// then keeps as X-Crawler-Transfer-Encoding). HTTP/2 responses keep their
// protocol name ("HTTP/2.0").
func ResponseHead(resp *http.Response) ([]byte, error) {
	if resp.Uncompressed && resp.Header.Get("Content-Encoding") == "" {
		return nil, ErrDecodedBody
	}
	var b bytes.Buffer
	proto := resp.Proto
	if proto == "" {
		proto = fmt.Sprintf("HTTP/%d.%d", resp.ProtoMajor, resp.ProtoMinor)
		if resp.ProtoMajor == 0 {
			proto = "HTTP/1.1"
		}
	}
	status := resp.Status
	if status == "" || !strings.HasPrefix(status, strconv.Itoa(resp.StatusCode)) {
		status = strconv.Itoa(resp.StatusCode) + " " + http.StatusText(resp.StatusCode)
	}
	fmt.Fprintf(&b, "%s %s\r\n", proto, strings.TrimSpace(status))
	_ = resp.Header.Write(&b)
	if len(resp.TransferEncoding) > 0 && resp.Header.Get("Transfer-Encoding") == "" {
		fmt.Fprintf(&b, "Transfer-Encoding: %s\r\n", strings.Join(resp.TransferEncoding, ", "))
	}
	b.WriteString("\r\n")
	return b.Bytes(), nil
}

// headError describes a request or response head the Writer refuses.
type headError struct {
	what   string
	reason string
}

func (e *headError) Error() string { return "warc: " + e.what + " head: " + e.reason }

// checkHead verifies that head is one HTTP message head, start line first,
// ending with its empty line and holding no other, within max bytes. It
// returns the start line.
func checkHead(what string, head []byte, max int) (string, error) {
	if len(head) > max {
		return "", &headError{what, fmt.Sprintf("%d bytes, over the %d-byte limit", len(head), max)}
	}
	end := headerEnd(head)
	if end < 0 {
		return "", &headError{what, "no empty line ends the header fields"}
	}
	if end != len(head) {
		return "", &headError{what, "bytes after the empty line that ends the header fields"}
	}
	line, _, _ := bytes.Cut(head, []byte("\n"))
	return strings.TrimRight(string(line), "\r"), nil
}

// headerEnd returns the length of the header block at the start of b,
// through the first empty line (CRLF or bare LF), or -1 if there is none.
func headerEnd(b []byte) int {
	for i := 0; i < len(b); {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return -1
		}
		line := b[i : i+j]
		i += j + 1
		if len(line) == 0 || (len(line) == 1 && line[0] == '\r') {
			if i == j+1 { // the very first line is empty: no start line
				return -1
			}
			return i
		}
	}
	return -1
}

// parseStatusLine returns the status code of "HTTP/x.y NNN reason".
func parseStatusLine(line string) (int, error) {
	proto, rest, ok := strings.Cut(line, " ")
	if !ok || !strings.HasPrefix(proto, "HTTP/") {
		return 0, fmt.Errorf("status line %q does not start with HTTP/", truncate(line))
	}
	code, _, _ := strings.Cut(strings.TrimLeft(rest, " "), " ")
	n, err := strconv.Atoi(code)
	if err != nil || len(code) != 3 || n < 100 {
		return 0, fmt.Errorf("status line %q has no three-digit status code", truncate(line))
	}
	return n, nil
}

// checkRequestLine verifies "METHOD SP target SP HTTP/x.y".
func checkRequestLine(line string) error {
	f := strings.Split(line, " ")
	if len(f) != 3 || f[0] == "" || f[1] == "" || !strings.HasPrefix(f[2], "HTTP/") {
		return fmt.Errorf("request line %q is not METHOD TARGET HTTP/x.y", truncate(line))
	}
	return nil
}

// keepTransferEncoding renames every Transfer-Encoding field of a response
// head to X-Crawler-Transfer-Encoding, leaving every other byte as it was.
func keepTransferEncoding(head []byte) []byte {
	out := make([]byte, 0, len(head)+16)
	first := true
	for len(head) > 0 {
		i := bytes.IndexByte(head, '\n')
		line := head
		if i >= 0 {
			line = head[:i+1]
		}
		head = head[len(line):]
		if !first {
			if name, rest, ok := bytes.Cut(line, []byte(":")); ok && strings.EqualFold(string(bytes.TrimSpace(name)), "Transfer-Encoding") {
				out = append(out, transferEncodingKept...)
				out = append(out, ':')
				out = append(out, rest...)
				continue
			}
		}
		first = false
		out = append(out, line...)
	}
	return out
}

func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
