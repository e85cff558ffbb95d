package archivetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// Consistency is what CheckArchive found in a store.
type Consistency struct {
	Articles int      // current captures: articles/<slug>/meta.json
	History  int      // earlier captures: articles/<slug>/history/<id>/meta.json
	Problems []string // every meta.json that does not describe the objects beside it
}

// CheckArchive checks the promise the pipeline makes about a crash or a
// store failure at any point: every meta.json, current or in history,
// describes the objects beside it. When it records a sha256, raw.html is
// there with that digest and size; when it records none, there is no
// raw.html. Objects without a meta.json (a capture cut short before its
// meta.json) are not problems: nothing points at them, and the next run
// overwrites them.
func CheckArchive(ctx context.Context, s storage.Store) (Consistency, error) {
	var c Consistency
	var metas []string
	err := s.List(ctx, record.ArticlesPrefix, func(info storage.Info) error {
		if strings.HasSuffix(info.Key, "/"+record.MetaFile) {
			metas = append(metas, info.Key)
		}
		return nil
	})
	if err != nil {
		return c, fmt.Errorf("check archive: %w", err)
	}
	for _, key := range metas {
		if strings.Contains(key, "/"+record.HistoryDir+"/") {
			c.History++
		} else {
			c.Articles++
		}
		problem, err := checkMeta(ctx, s, key)
		if err != nil {
			return c, err
		}
		if problem != "" {
			c.Problems = append(c.Problems, problem)
		}
	}
	return c, nil
}

func checkMeta(ctx context.Context, s storage.Store, key string) (string, error) {
	m, err := record.ReadMetaKey(ctx, s, key)
	if errors.Is(err, record.ErrUnreadable) {
		return fmt.Sprintf("%s: not a meta.json: %v", key, err), nil
	}
	if err != nil {
		return "", fmt.Errorf("check archive: %w", err)
	}
	rawKey := strings.TrimSuffix(key, record.MetaFile) + record.RawFile
	raw, err := s.Get(ctx, rawKey)
	switch {
	case storage.IsNotExist(err) && m.SHA256 == "":
		return "", nil
	case storage.IsNotExist(err):
		return fmt.Sprintf("%s records sha256 %s, but %s is missing", key, m.SHA256, rawKey), nil
	case err != nil:
		return "", fmt.Errorf("check archive: %w", err)
	}
	defer raw.Close()
	if m.SHA256 == "" {
		return fmt.Sprintf("%s records no content, but %s exists", key, rawKey), nil
	}
	h := sha256.New()
	n, err := io.Copy(h, raw)
	if err != nil {
		return "", fmt.Errorf("check archive: read %s: %w", rawKey, err)
	}
	if sum := hex.EncodeToString(h.Sum(nil)); sum != m.SHA256 || n != m.Size {
		return fmt.Sprintf("%s records sha256 %s (%d bytes), but %s has %s (%d bytes)", key, m.SHA256, m.Size, rawKey, sum, n), nil
	}
	return "", nil
}
