package storage_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/linkarc/linkarc/storage"
)

func TestValidKey(t *testing.T) {
	tests := []struct {
		key     string
		wantErr string // substring of the error; "" for a valid key
	}{
		{"articles/some-slug/meta.json", ""},
		{"articles/новости-дня/meta.json", ""},
		{"a", ""},
		{".hidden/x", ""},
		{"a..b/c.", ""},
		{"with space/ok", ""},
		{strings.Repeat("k", storage.MaxSegmentLen), ""},
		{strings.Repeat("k/", storage.MaxKeyLen/2-1) + "kk", ""},
		{"", "empty"},
		{"/a", "empty segment"},
		{"a/", "empty segment"},
		{"a//b", "empty segment"},
		{".", `"." segment`},
		{"a/../b", `".." segment`},
		{`a\b`, "backslash"},
		{"a\x00b", "control character U+0000"},
		{"a\x1bb", "control character U+001B"},
		{"a\u009fb", "control character U+009F"},
		{"a\xc3", "not valid UTF-8"},
		{strings.Repeat("k", storage.MaxKeyLen+1), "longer than 1024 bytes"},
		{strings.Repeat("k", storage.MaxSegmentLen+1), "segment longer than 255 bytes"},
		{"x/.linkarc-tmp-1", "reserved"},
	}
	for _, tt := range tests {
		err := storage.ValidKey(tt.key)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("ValidKey(%.40q) = %v, want nil", tt.key, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("ValidKey(%.40q) = %v, want error containing %q", tt.key, err, tt.wantErr)
		case err != nil && !errors.Is(err, storage.ErrInvalidKey):
			t.Errorf("ValidKey(%.40q) = %v, does not wrap ErrInvalidKey", tt.key, err)
		}
		if err != nil && len(err.Error()) > 200 {
			t.Errorf("ValidKey(%.40q): error message of %d bytes, want it shortened", tt.key, len(err.Error()))
		}
	}
}
