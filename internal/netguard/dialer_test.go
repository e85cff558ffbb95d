package netguard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"sync/atomic"
	"testing"
	"time"
)

// countingServer is a loopback HTTP server that counts the requests it gets.
type countingServer struct {
	*httptest.Server
	hits atomic.Int64
}

func newCountingServer(t *testing.T, addr string, h http.HandlerFunc) *countingServer {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen %s: %v", addr, err)
	}
	s := &countingServer{}
	s.Server = &httptest.Server{
		Listener: ln,
		Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.hits.Add(1)
			h(w, r)
		})},
	}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// clientWith returns an http.Client that connects only through d, with no
// proxy, as the fetcher must.
func clientWith(d *net.Dialer) *http.Client {
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			Proxy:             nil,
			DialContext:       d.DialContext,
			DisableKeepAlives: true,
		},
	}
}

func hello(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "hello") }

func TestDialerLoopbackServer(t *testing.T) {
	srv := newCountingServer(t, "127.0.0.1:0", hello)
	port := srv.Listener.Addr().(*net.TCPAddr).Port

	refusedURLs := []string{
		srv.URL + "/",
		fmt.Sprintf("http://localhost:%d/", port), // a name that resolves to loopback
	}
	for _, u := range refusedURLs {
		resp, err := clientWith(NewDialer(false, 5*time.Second)).Get(u)
		if err == nil {
			resp.Body.Close()
			t.Fatalf("GET %s with allowPrivate=false succeeded (status %d)", u, resp.StatusCode)
		}
		if !IsForbidden(err) {
			t.Fatalf("GET %s: error %v is not recognised by IsForbidden", u, err)
		}
		var ue *url.Error
		if !errors.As(err, &ue) {
			t.Errorf("GET %s: error %T is not a *url.Error; IsForbidden must see through it", u, err)
		}
	}
	if n := srv.hits.Load(); n != 0 {
		t.Fatalf("server got %d requests through the refusing dialer", n)
	}

	resp, err := clientWith(NewDialer(true, 5*time.Second)).Get(srv.URL + "/")
	if err != nil {
		t.Fatalf("GET with allowPrivate=true: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if string(body) != "hello" || srv.hits.Load() != 1 {
		t.Fatalf("allowPrivate=true: body %q, hits %d; want \"hello\", 1", body, srv.hits.Load())
	}
}

// TestDialerRefusesRedirect stands up a "public" host on 127.0.0.2 (the
// policy lets exactly that address and port through) that redirects to a
// private one on 127.0.0.1 and to another port of its own address: both
// redirect hops must be refused at dial time.
func TestDialerRefusesRedirect(t *testing.T) {
	private := newCountingServer(t, "127.0.0.1:0", hello)
	sibling := newCountingServer(t, "127.0.0.2:0", hello)
	public := newCountingServer(t, "127.0.0.2:0", func(w http.ResponseWriter, r *http.Request) {
		target := private.URL
		if r.URL.Path == "/sibling" {
			target = sibling.URL
		}
		http.Redirect(w, r, target+"/secret", http.StatusFound)
	})
	d := Policy{AllowAddrs: []netip.AddrPort{netip.MustParseAddrPort(public.Listener.Addr().String())}}.Dialer(5 * time.Second)

	for _, path := range []string{"/article", "/sibling"} {
		_, err := clientWith(d).Get(public.URL + path)
		if !IsForbidden(err) {
			t.Fatalf("redirect from %s: err = %v, want a ForbiddenError", path, err)
		}
	}
	if public.hits.Load() != 2 || private.hits.Load() != 0 || sibling.hits.Load() != 0 {
		t.Fatalf("hits public=%d private=%d sibling=%d, want 2, 0, 0", public.hits.Load(), private.hits.Load(), sibling.hits.Load())
	}
}

func TestDialerControl(t *testing.T) {
	d := NewDialer(false, time.Second)
	tests := []struct {
		network, addr string
		forbidden     bool
	}{
		{"tcp4", "127.0.0.1:80", true},
		{"tcp6", "[::1]:443", true},
		{"tcp6", "[::ffff:169.254.169.254]:80", true},
		{"tcp6", "[fe80::1%eth0]:80", true},
		{"tcp4", "10.0.0.1:80", true},
		{"udp4", "192.168.1.1:53", true},
		{"unix", "/var/run/docker.sock", true},
		{"tcp4", "93.184.216.34:80", false},
		{"tcp6", "[2606:4700:4700::1111]:443", false},
	}
	for _, tt := range tests {
		err := d.Control(tt.network, tt.addr, nil)
		if got := err != nil; got != tt.forbidden {
			t.Errorf("Control(%s, %s) = %v, want forbidden=%v", tt.network, tt.addr, err, tt.forbidden)
		}
		if err != nil && !IsForbidden(err) {
			t.Errorf("Control(%s, %s) = %v, not a ForbiddenError", tt.network, tt.addr, err)
		}
	}
	if NewDialer(true, time.Second).Control != nil {
		t.Error("allowPrivate dialer has a Control hook")
	}
	if got := NewDialer(false, 3*time.Second).Timeout; got != 3*time.Second {
		t.Errorf("Timeout = %v, want 3s", got)
	}
}

func TestDialContextError(t *testing.T) {
	srv := newCountingServer(t, "127.0.0.1:0", hello)
	_, err := NewDialer(false, time.Second).DialContext(context.Background(), "tcp", srv.Listener.Addr().String())
	var oe *net.OpError
	if !errors.As(err, &oe) || !IsForbidden(err) {
		t.Fatalf("DialContext: %v (%T), want a net.OpError wrapping a ForbiddenError", err, err)
	}
	var fe *ForbiddenError
	errors.As(err, &fe)
	if fe.Reason != "loopback address" {
		t.Errorf("Reason = %q, want loopback address", fe.Reason)
	}
}

func TestIsForbidden(t *testing.T) {
	fe := &ForbiddenError{Addr: "127.0.0.1:80", Reason: "loopback address"}
	wrapped := &url.Error{Op: "Get", URL: "http://x/", Err: &net.OpError{Op: "dial", Net: "tcp", Err: fe}}
	tests := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("connection refused"), false},
		{fe, true},
		{wrapped, true},
		{fmt.Errorf("fetch: %w", wrapped), true},
	}
	for _, tt := range tests {
		if got := IsForbidden(tt.err); got != tt.want {
			t.Errorf("IsForbidden(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
	if want := "netguard: refusing 127.0.0.1:80: loopback address"; fe.Error() != want {
		t.Errorf("Error() = %q, want %q", fe.Error(), want)
	}
}
