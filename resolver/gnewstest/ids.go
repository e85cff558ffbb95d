package gnewstest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"net/url"
	"strings"
)

// EncodeOldID builds an id of the pre-July-2024 format, which embeds the
// publisher URL (and optionally an AMP URL) and is decoded offline:
// protobuf field 1 = 19, field 4 = url, field 26 = amp (omitted when amp
// is empty).
func EncodeOldID(publisherURL, ampURL string) string {
	b := []byte{0x08, 0x13, 0x22}
	b = binary.AppendUvarint(b, uint64(len(publisherURL)))
	b = append(b, publisherURL...)
	if ampURL != "" {
		b = append(b, 0xd2, 0x01)
		b = binary.AppendUvarint(b, uint64(len(ampURL)))
		b = append(b, ampURL...)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// EncodeNewID builds an id of the current format around an opaque handle
// (which should start with "AU_yqL" to be recognised as one).
func EncodeNewID(handle string) string {
	b := []byte{0x08, 0x13, 0x22}
	b = binary.AppendUvarint(b, uint64(len(handle)))
	b = append(b, handle...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// ArticleURL is the link Google News puts in its RSS feeds for an id. It
// names the real host: resolvers recognise links by it and send the requests
// to the configured base (the fake's NewsURL).
func ArticleURL(id string) string {
	return "https://news.google.com/rss/articles/" + id + "?oc=5"
}

// mintHandle derives a fresh opaque handle, about as long as real ones.
func mintHandle(key []byte, seq int, publisherURL string) string {
	h := sha256.New()
	h.Write(key)
	binary.Write(h, binary.BigEndian, int64(seq))
	h.Write([]byte(publisherURL))
	a := h.Sum(nil)
	b := sha256.Sum256(a)
	return "AU_yqL" + base64.RawURLEncoding.EncodeToString(append(a, b[:]...))
}

// idFromPath returns the id of an article path, or "".
func idFromPath(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return ""
	}
	id := p[i+1:]
	for _, c := range id {
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return ""
		}
	}
	return id
}

// withQuery returns u with k=v added (or replaced).
func withQuery(u *url.URL, kv ...string) *url.URL {
	c := *u
	q := c.Query()
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	c.RawQuery = q.Encode()
	return &c
}
