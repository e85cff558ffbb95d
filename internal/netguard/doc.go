// Package netguard keeps linkarc from being turned against the network it
// runs in (server-side request forgery).
//
// Publisher URLs come from untrusted feeds and pages, and a redirect or a DNS
// answer can point anywhere, so the authoritative check happens at dial time:
// NewDialer returns a net.Dialer whose Control hook refuses every socket whose
// destination is not a public unicast address: one the IANA special-purpose
// address registries call globally reachable (registry.go holds the table). That covers literal IP hosts,
// hostnames that resolve to private addresses (including DNS rebinding, since
// the check sees the address actually dialed), and every hop of a redirect
// chain. CheckURL is an early, cheaper refusal of URLs whose host is a literal
// non-public IP in any notation a resolver or browser accepts, so they fail
// with a clear reason before any request is made.
//
// The guard only means something if connections really go through the
// dialer: an http.Transport using it must have Proxy set to nil (a proxy
// would be dialed instead of the target).
package netguard
