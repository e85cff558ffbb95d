package record

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/linkarc/linkarc/storage"
)

// Verify checks the promise the writer makes about crashes, store failures
// and concurrent runs: every meta.json of the article, current and in
// history, describes the objects beside it. It returns one line per
// problem found; err is the store's failure. See VerifyCapture.
func Verify(ctx context.Context, st storage.Store, slug string) ([]string, error) {
	var keys []string
	prefix := ArticleKey(slug, "") + "/"
	err := st.List(ctx, prefix, func(info storage.Info) error {
		rest := strings.TrimPrefix(info.Key, prefix)
		if rest == MetaFile {
			keys = append(keys, info.Key)
		} else if id, name, ok := strings.Cut(strings.TrimPrefix(rest, HistoryDir+"/"), "/"); ok && strings.HasPrefix(rest, HistoryDir+"/") && name == MetaFile && ValidCaptureID(id) {
			keys = append(keys, info.Key)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", slug, err)
	}
	var problems []string
	for _, k := range keys {
		p, err := VerifyCapture(ctx, st, k)
		if err != nil {
			return problems, err
		}
		problems = append(problems, p...)
	}
	return problems, nil
}

// VerifyCapture checks the meta.json at metaKey against the objects beside
// it: raw.html is there with the sha256 and size recorded, or absent when
// none is recorded; each object with a recorded sum (readable.html,
// text.txt, the files listed) is there with that sum; each file listed is
// there; and when sums are recorded (records of this version), a readable.html
// or text.txt without one is a problem (it is another capture's).
func VerifyCapture(ctx context.Context, st storage.Store, metaKey string) ([]string, error) {
	m, err := ReadMetaKey(ctx, st, metaKey)
	if errors.Is(err, ErrUnreadable) {
		return []string{fmt.Sprintf("%s: not a meta.json: %v", metaKey, err)}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	dir := path.Dir(metaKey)
	var problems []string
	check := func(name, wantSum string, wantSize int64) error {
		key := dir + "/" + name
		sum, n, err := objectSum(ctx, st, key)
		switch {
		case storage.IsNotExist(err) && wantSum == "":
			return nil
		case storage.IsNotExist(err):
			problems = append(problems, fmt.Sprintf("%s records %s (sha256 %s), but it is missing", metaKey, name, short(wantSum)))
			return nil
		case err != nil:
			return fmt.Errorf("verify: %w", err)
		case wantSum == "":
			problems = append(problems, fmt.Sprintf("%s records no %s, but %s exists (another capture's)", metaKey, name, key))
		case sum != wantSum || (wantSize >= 0 && n != wantSize):
			problems = append(problems, fmt.Sprintf("%s records %s sha256 %s, but it has %s (%d bytes): another capture's", metaKey, name, short(wantSum), short(sum), n))
		}
		return nil
	}
	if err := check(RawFile, m.SHA256, m.Size); err != nil {
		return problems, err
	}
	if m.Sums != nil {
		for _, name := range []string{ReadableFile, TextFile} {
			if err := check(name, m.Sums[name], -1); err != nil {
				return problems, err
			}
		}
	}
	for _, name := range m.Files {
		if !ValidObjectName(name) {
			problems = append(problems, fmt.Sprintf("%s lists %q, which is not an object name", metaKey, name))
			continue
		}
		want := m.Sums[name]
		if want == "" {
			if _, err := st.Stat(ctx, dir+"/"+name); storage.IsNotExist(err) {
				problems = append(problems, fmt.Sprintf("%s lists %s, but it is missing", metaKey, name))
			} else if err != nil {
				return problems, fmt.Errorf("verify: %w", err)
			}
			continue
		}
		if err := check(name, want, -1); err != nil {
			return problems, err
		}
	}
	return problems, nil
}

func objectSum(ctx context.Context, st storage.Store, key string) (string, int64, error) {
	rc, err := st.Get(ctx, key)
	if err != nil {
		return "", 0, err
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, rc)
	if err != nil {
		return "", n, fmt.Errorf("read %s: %w", key, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

func short(sum string) string {
	if len(sum) > 12 {
		return sum[:12]
	}
	if sum == "" {
		return "none"
	}
	return sum
}
