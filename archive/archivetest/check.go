package archivetest

import (
	"context"
	"fmt"
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

// CheckArchive checks the promise the pipeline makes about a crash, a
// store failure or runs at once, at any point: every meta.json, current or
// in history, describes the objects beside it (record.VerifyCapture:
// raw.html's sha256 and size, the sums of readable.html, text.txt and the
// files listed). Objects without a meta.json (a capture cut short before
// its meta.json) are not problems: nothing points at them, and the next
// run overwrites them.
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
		problems, err := record.VerifyCapture(ctx, s, key)
		if err != nil {
			return c, fmt.Errorf("check archive: %w", err)
		}
		c.Problems = append(c.Problems, problems...)
	}
	return c, nil
}
