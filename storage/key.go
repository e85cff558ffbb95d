package storage

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrInvalidKey is returned (wrapped) by every Store method given a key or
// prefix that ValidKey refuses.
var ErrInvalidKey = errors.New("invalid key")

// Key limits. They are the tightest of the backends' (S3 allows 1024 bytes
// per key, file systems 255 bytes per path element), so that an archive can
// move between backends without losing objects.
const (
	MaxKeyLen     = 1024 // bytes
	MaxSegmentLen = 255  // bytes between slashes
)

// tempPrefix starts the names of the local backend's temporary files. Keys
// may not have a segment starting with it, so that a temporary file can never
// be mistaken for, or overwrite, an object.
const tempPrefix = ".linkarc-tmp-"

// ValidKey reports why key cannot name an object, or nil if it can.
//
// A key is 1 to MaxKeyLen bytes of valid UTF-8 without control characters or
// backslashes; it is split by "/" into segments of 1 to MaxSegmentLen bytes,
// none of them "." or "..", and none starting with ".linkarc-tmp-" (reserved
// for temporary files). So no leading, trailing or doubled slash.
// The errors wrap ErrInvalidKey.
func ValidKey(key string) error {
	if key == "" {
		return fmt.Errorf("%w: empty", ErrInvalidKey)
	}
	if len(key) > MaxKeyLen {
		return invalidKey(key, fmt.Sprintf("longer than %d bytes", MaxKeyLen))
	}
	if err := checkChars(key); err != nil {
		return err
	}
	for seg := range strings.SplitSeq(key, "/") {
		if err := checkSegment(key, seg); err != nil {
			return err
		}
	}
	return nil
}

// validPrefix checks a List prefix: "" or the beginning of a valid key. Every
// segment but the last must be complete and valid; the last may be empty
// (prefix ending in "/") or any beginning of a segment.
func validPrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	if len(prefix) > MaxKeyLen {
		return invalidKey(prefix, fmt.Sprintf("prefix longer than %d bytes", MaxKeyLen))
	}
	if err := checkChars(prefix); err != nil {
		return err
	}
	segs := strings.Split(prefix, "/")
	for _, seg := range segs[:len(segs)-1] {
		if err := checkSegment(prefix, seg); err != nil {
			return err
		}
	}
	if last := segs[len(segs)-1]; len(last) > MaxSegmentLen {
		return invalidKey(prefix, fmt.Sprintf("segment longer than %d bytes", MaxSegmentLen))
	}
	return nil
}

func checkChars(s string) error {
	if !utf8.ValidString(s) {
		return invalidKey(s, "not valid UTF-8")
	}
	for _, r := range s {
		switch {
		case r == '\\':
			return invalidKey(s, "contains a backslash")
		case unicode.IsControl(r):
			return invalidKey(s, fmt.Sprintf("contains control character %U", r))
		}
	}
	return nil
}

func checkSegment(key, seg string) error {
	switch {
	case seg == "":
		return invalidKey(key, "empty segment (leading, trailing or double slash)")
	case seg == "." || seg == "..":
		return invalidKey(key, fmt.Sprintf("%q segment", seg))
	case len(seg) > MaxSegmentLen:
		return invalidKey(key, fmt.Sprintf("segment longer than %d bytes", MaxSegmentLen))
	case strings.HasPrefix(seg, tempPrefix):
		return invalidKey(key, fmt.Sprintf("segment starts with reserved %q", tempPrefix))
	}
	return nil
}

func invalidKey(key, why string) error {
	const show = 80 // keep messages readable when the key is huge
	if len(key) > show {
		cut := show
		for cut > 0 && !utf8.RuneStart(key[cut]) {
			cut--
		}
		key = key[:cut] + "…"
	}
	return fmt.Errorf("%w %q: %s", ErrInvalidKey, key, why)
}
