package netguard

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"time"
)

// TransportOptions configures NewTransport. The zero value is a guarded
// transport with Go's default timeouts.
type TransportOptions struct {
	// Policy guards every connection the transport makes (Policy.Dialer),
	// and no proxy is used: a proxy would be dialed instead of the target,
	// so the guard would never see where requests really go.
	Policy Policy
	// Unguarded drops the guard and uses the proxy the environment names
	// (HTTP_PROXY, HTTPS_PROXY, NO_PROXY). Only for hosts linkarc chooses
	// itself (Google News and its consent host, or the base URL the user
	// names), never for links that come from feeds or pages.
	Unguarded bool
	// DialContext, if set, replaces the dialer: a test standing a "public"
	// host up on loopback. What it dials is not checked.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)

	// ConnectTimeout bounds the TCP connect and the TLS handshake.
	ConnectTimeout time.Duration
	// ResponseHeaderTimeout bounds the wait for a response's headers once
	// the request is sent; 0 means no bound beyond the request's context.
	ResponseHeaderTimeout time.Duration
}

// NewTransport returns linkarc's one kind of http.Transport: HTTP/2 when the
// server offers it, a small idle pool per host (linkarc talks to each host
// one request at a time), and the guard of TransportOptions.Policy unless
// Unguarded.
func NewTransport(o TransportOptions) *http.Transport {
	dial := o.DialContext
	var proxy func(*http.Request) (*url.URL, error)
	switch {
	case o.Unguarded:
		proxy = http.ProxyFromEnvironment
		if dial == nil {
			dial = (&net.Dialer{Timeout: o.ConnectTimeout}).DialContext
		}
	case dial == nil:
		dial = o.Policy.Dialer(o.ConnectTimeout).DialContext
	}
	return &http.Transport{
		Proxy:                 proxy,
		DialContext:           dial,
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   o.ConnectTimeout,
		ResponseHeaderTimeout: o.ResponseHeaderTimeout,
		ExpectContinueTimeout: time.Second,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       90 * time.Second,
	}
}
