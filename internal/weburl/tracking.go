package weburl

import (
	"net/url"
	"slices"
	"strings"
)

// Tracking parameters are query parameters that say how a reader came to a
// page (campaign, click id, newsletter, share button), never which page it
// is. Links to one article from two feeds or two newsletters differ only in
// them. linkarc stores a URL as it was resolved, and uses the form without
// them to decide whether two links are one article (Canonical) and to show
// URLs (StripTracking). docs/resolving.md lists them for users.

// trackingPrefixes are parameter-name prefixes that are tracking whatever
// follows: Google Analytics campaign tags (utm_source, utm_medium,
// utm_campaign, utm_term, utm_content, utm_id…), comScore's ns_ tags
// (ns_mchannel, ns_source, ns_campaign, ns_linkname, ns_fee), and
// HubSpot's _hs tags (_hsenc, _hsmi).
var trackingPrefixes = []string{"utm_", "ns_", "_hs"}

// trackingNames are whole parameter names that are tracking, compared
// without case.
var trackingNames = map[string]bool{
	// Click ids of ad networks and social sites.
	"fbclid":    true, // Facebook
	"gclid":     true, // Google Ads
	"gclsrc":    true, // Google Ads
	"dclid":     true, // Google Display (DoubleClick)
	"gbraid":    true, // Google Ads (iOS)
	"wbraid":    true, // Google Ads (iOS)
	"msclkid":   true, // Microsoft Ads
	"yclid":     true, // Yandex
	"twclid":    true, // X / Twitter
	"ttclid":    true, // TikTok
	"li_fat_id": true, // LinkedIn
	"igshid":    true, // Instagram share
	"igsh":      true, // Instagram share
	"srsltid":   true, // Google Merchant
	// Analytics and mailing tools.
	"_ga":         true, // Google Analytics cross-domain
	"_gl":         true, // Google Analytics cross-domain
	"mc_cid":      true, // Mailchimp campaign
	"mc_eid":      true, // Mailchimp subscriber
	"mkt_tok":     true, // Marketo
	"oly_anon_id": true, // Omeda
	"oly_enc_id":  true, // Omeda
	"vero_id":     true, // Vero
	"_openstat":   true, // Openstat
	"wt_mc":       true, // Webtrekk / Mapp
	"xtor":        true, // AT Internet (Piano Analytics)
	// Publishers' own campaign and share ids.
	"ocid":     true, // Microsoft Start / MSN
	"cmpid":    true, // campaign id (many publishers)
	"smid":     true, // New York Times share
	"sr_share": true, // share buttons
}

// IsTracking reports whether a query parameter name is a tracking
// parameter (see TrackingParams).
func IsTracking(name string) bool {
	n := strings.ToLower(name)
	if trackingNames[n] {
		return true
	}
	for _, p := range trackingPrefixes {
		if strings.HasPrefix(n, p) {
			return true
		}
	}
	return false
}

// TrackingParams describes the tracking parameters for documentation and
// help: the prefixes (ending in "_" or "*") and then the names, sorted.
func TrackingParams() (prefixes, names []string) {
	for _, p := range trackingPrefixes {
		prefixes = append(prefixes, p+"*")
	}
	for n := range trackingNames {
		names = append(names, n)
	}
	slices.Sort(names)
	return prefixes, names
}

// StripTracking returns raw without its tracking parameters. The other
// parameters keep their order and spelling, and nothing else changes; a
// query left empty loses its "?". A string that does not parse, or has no
// tracking parameter, is returned as it is.
func StripTracking(raw string) string {
	q := strings.IndexByte(raw, '?')
	if h := strings.IndexByte(raw, '#'); q < 0 || (h >= 0 && h < q) {
		return raw // no query: a "?" in the fragment is the fragment's
	}
	if _, err := url.Parse(raw); err != nil {
		return raw
	}
	query, frag := raw[q+1:], ""
	if h := strings.IndexByte(query, '#'); h >= 0 {
		query, frag = query[:h], query[h:]
	}
	var kept []string
	dropped := false
	for _, part := range strings.Split(query, "&") {
		name, _, _ := strings.Cut(part, "=")
		if n, err := url.QueryUnescape(name); err == nil {
			name = n
		}
		if part != "" && IsTracking(name) {
			dropped = true
			continue
		}
		kept = append(kept, part)
	}
	if !dropped {
		return raw
	}
	out := raw[:q]
	if rest := strings.Join(kept, "&"); strings.Trim(rest, "&") != "" {
		out += "?" + rest
	}
	return out + frag
}
