//go:build race

package procpool

import "testing"

// The race detector maps shadow memory that no memory budget fits: its
// workers die at the OS limit at once (exit status 66).
func skipRace(t *testing.T) { t.Skip("memory budgets do not apply under the race detector") }
