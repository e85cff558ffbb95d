package resolver

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// maxIDLen bounds an id before decoding: real ids are 60–400 characters, and
// the bound keeps a hostile input from costing more than a few kilobytes.
const maxIDLen = 8192

// idFormat is what an id's envelope says about how to resolve it.
type idFormat int

const (
	formatUnknown idFormat = iota // decodable envelope, but neither shape below
	formatOld                     // field 4 is the publisher URL: resolve offline
	formatNew                     // field 4 is an opaque AU_yqL handle: needs Google
)

func (f idFormat) String() string {
	switch f {
	case formatOld:
		return "old"
	case formatNew:
		return "new"
	}
	return "unknown"
}

// envelope is a decoded article id: a tiny protobuf message.
type envelope struct {
	Field1 uint64 // 19 in every CBMi id, 2 in the 2018 CAIi ids
	Field4 []byte // publisher URL (old) or opaque handle (new)
	AMP    []byte // field 26: AMP URL or handle; may be empty
	Format idFormat
	URL    string // set when Format is formatOld
}

// newHandlePrefix starts field 4 of every id issued since July 2024.
const newHandlePrefix = "AU_yqL"

var errNotEnvelope = errors.New("not a Google News article id")

// validIDChars reports whether id uses only the base64url alphabet.
func validIDChars(id string) bool {
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// decodeID decodes an article id (the last path segment of a Google News
// link) and classifies it. An error means the id is not a well-formed
// envelope at all; a well-formed envelope of an unknown shape is returned
// with formatUnknown and no error.
func decodeID(id string) (envelope, error) {
	var env envelope
	id = strings.TrimRight(id, "=") // tolerate padding some tools add
	switch {
	case id == "":
		return env, fmt.Errorf("empty id: %w", errNotEnvelope)
	case len(id) > maxIDLen:
		return env, fmt.Errorf("id is %d characters, more than the %d any real id has: %w", len(id), maxIDLen, errNotEnvelope)
	case !validIDChars(id):
		return env, fmt.Errorf("id has characters outside the base64url alphabet: %w", errNotEnvelope)
	case len(id)%4 == 1:
		return env, fmt.Errorf("id length %d cannot be base64: %w", len(id), errNotEnvelope)
	}
	raw, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil {
		return env, fmt.Errorf("id is not base64url: %w", errNotEnvelope)
	}
	if err := env.parse(raw); err != nil {
		return env, err
	}
	env.classify()
	return env, nil
}

// parse walks the protobuf fields. Unknown fields are skipped by wire type so
// that a future extra field does not break decoding.
func (env *envelope) parse(b []byte) error {
	if len(b) == 0 || b[0] != 0x08 {
		return fmt.Errorf("id does not start with a protobuf field 1: %w", errNotEnvelope)
	}
	seen1 := false
	for len(b) > 0 {
		key, n := uvarint(b)
		if n <= 0 {
			return fmt.Errorf("truncated field key: %w", errNotEnvelope)
		}
		b = b[n:]
		field, wire := key>>3, key&7
		if field == 0 {
			return fmt.Errorf("field number 0: %w", errNotEnvelope)
		}
		switch wire {
		case 0: // varint
			v, n := uvarint(b)
			if n <= 0 {
				return fmt.Errorf("truncated varint in field %d: %w", field, errNotEnvelope)
			}
			b = b[n:]
			if field == 1 {
				env.Field1, seen1 = v, true
			}
		case 2: // length-delimited
			l, n := uvarint(b)
			if n <= 0 || l > uint64(len(b)-n) {
				return fmt.Errorf("field %d length runs past the end of the id: %w", field, errNotEnvelope)
			}
			val := b[n : n+int(l)]
			b = b[n+int(l):]
			switch field {
			case 4:
				env.Field4 = val
			case 26:
				env.AMP = val
			}
		case 1: // fixed64
			if len(b) < 8 {
				return fmt.Errorf("truncated fixed64: %w", errNotEnvelope)
			}
			b = b[8:]
		case 5: // fixed32
			if len(b) < 4 {
				return fmt.Errorf("truncated fixed32: %w", errNotEnvelope)
			}
			b = b[4:]
		default:
			return fmt.Errorf("unsupported protobuf wire type %d: %w", wire, errNotEnvelope)
		}
	}
	if !seen1 {
		return fmt.Errorf("no field 1: %w", errNotEnvelope)
	}
	return nil
}

func (env *envelope) classify() {
	f4 := env.Field4
	switch {
	case len(f4) > len(newHandlePrefix) && string(f4[:len(newHandlePrefix)]) == newHandlePrefix:
		env.Format = formatNew
	case looksLikeHTTP(f4):
		if u, ok := cleanURL(string(f4)); ok {
			env.Format, env.URL = formatOld, u
		}
	}
}

func looksLikeHTTP(b []byte) bool {
	s := strings.ToLower(string(b[:min(len(b), 8)]))
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}

// embedsBadURL reports whether field 4 pretends to be a URL but is not a
// usable one (control characters, invalid UTF-8, no host).
func (env *envelope) embedsBadURL() bool {
	return env.Format == formatUnknown && looksLikeHTTP(env.Field4)
}

// uvarint reads a protobuf varint (at most 10 bytes). n <= 0 on error.
func uvarint(b []byte) (v uint64, n int) {
	var shift uint
	for i := 0; i < len(b) && i < 10; i++ {
		c := b[i]
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return v, i + 1
		}
		shift += 7
	}
	return 0, -1
}

// cleanURL validates a URL we are about to hand out, whatever its source
// (an id's envelope or Google's answer): valid UTF-8, absolute http or https,
// a host, no control characters or spaces. It returns the URL unchanged.
func cleanURL(s string) (string, bool) {
	if s == "" || len(s) > 16<<10 || !utf8.ValidString(s) || hasControl(s) {
		return "", false
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" || u.User != nil {
		return "", false
	}
	return s, true
}
