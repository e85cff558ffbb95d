package netguard

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestNewTransport: the one transport constructor guards by default (no
// proxy, refused destinations never dialed), honours the policy's
// exceptions, and only an explicitly unguarded transport uses a proxy.
func TestNewTransport(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(hello))
	defer srv.Close()
	get := func(tr *http.Transport) error {
		defer tr.CloseIdleConnections()
		resp, err := (&http.Client{Transport: tr}).Get(srv.URL)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}

	guarded := NewTransport(TransportOptions{ConnectTimeout: time.Second})
	if guarded.Proxy != nil {
		t.Error("a guarded transport has a proxy")
	}
	if err := get(guarded); !IsForbidden(err) {
		t.Errorf("guarded transport to loopback: %v, want a refusal", err)
	}
	if err := get(NewTransport(TransportOptions{Policy: Policy{AllowPrivate: true}, ConnectTimeout: time.Second})); err != nil {
		t.Errorf("transport allowing private addresses: %v", err)
	}
	unguarded := NewTransport(TransportOptions{Unguarded: true, ConnectTimeout: time.Second})
	if unguarded.Proxy == nil {
		t.Error("an unguarded transport ignores the environment's proxy")
	}
	if err := get(unguarded); err != nil {
		t.Errorf("unguarded transport: %v", err)
	}
	if guarded.TLSHandshakeTimeout != time.Second || !guarded.ForceAttemptHTTP2 {
		t.Errorf("settings: %+v", guarded)
	}
}
