package redirect

import (
	"errors"
	"net/url"
	"testing"
)

func TestPolicyNext(t *testing.T) {
	refused := errors.New("refused by the caller")
	check := func(u *url.URL) error {
		if u.Host == "internal.example" {
			return refused
		}
		return nil
	}
	const a, b, c = "https://a.example/", "https://b.example/", "https://c.example/"
	tests := []struct {
		name   string
		policy Policy
		chain  []string
		next   string
		want   error
	}{
		{"first redirect", Policy{MaxHops: 10}, []string{a}, b, nil},
		{"back to itself once, for a cookie", Policy{MaxHops: 10}, []string{a}, a, nil},
		{"second visit after a detour", Policy{MaxHops: 10}, []string{a, b}, a, nil},
		{"third visit is a loop", Policy{MaxHops: 10}, []string{a, b, a, b}, a, ErrLoop},
		{"cookieless: second visit is a loop", Policy{MaxHops: 10, Cookieless: true}, []string{a, b}, a, ErrLoop},
		{"cookieless: no self-redirect", Policy{MaxHops: 10, Cookieless: true}, []string{a}, a, ErrLoop},
		{"the limit-th redirect is followed", Policy{MaxHops: 2}, []string{a, b}, c, nil},
		{"one more is not", Policy{MaxHops: 2}, []string{a, b, c}, "https://d.example/", ErrTooManyHops},
		{"no redirects at all", Policy{MaxHops: -1}, []string{a}, b, ErrTooManyHops},
		{"zero hops follows none", Policy{MaxHops: 0}, []string{a}, b, ErrTooManyHops},
		{"a loop is named before the limit", Policy{MaxHops: 3}, []string{a, b, a, b}, a, ErrLoop},
		{"not http", Policy{MaxHops: 10}, []string{a}, "ftp://files.example/x", ErrScheme},
		{"no host", Policy{MaxHops: 10}, []string{a}, "https:///path", ErrScheme},
		{"the caller refuses", Policy{MaxHops: 10, Check: check}, []string{a}, "https://internal.example/", refused},
		{"the caller decides before the scheme rule", Policy{MaxHops: 10, Check: func(*url.URL) error { return refused }}, []string{a}, "ftp://x.example/", refused},
	}
	for _, tt := range tests {
		next, err := url.Parse(tt.next)
		if err != nil {
			t.Fatal(err)
		}
		err = tt.policy.Next(tt.chain, next)
		if (tt.want == nil) != (err == nil) || (tt.want != nil && !errors.Is(err, tt.want)) {
			t.Errorf("%s: Next = %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestIsRedirect(t *testing.T) {
	for status, want := range map[int]bool{301: true, 302: true, 303: true, 307: true, 308: true, 300: false, 304: false, 200: false, 404: false} {
		if IsRedirect(status) != want {
			t.Errorf("IsRedirect(%d) = %v", status, !want)
		}
	}
}
