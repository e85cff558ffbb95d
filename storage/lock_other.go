//go:build !unix

package storage

import "errors"

// lockFile is not available here: the local store's conditional writes
// need flock.
func lockFile(string) (unlock func(), err error) {
	return nil, errors.New("conditional writes to a local store need flock (Unix)")
}
