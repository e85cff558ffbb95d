//go:build !race

package procpool

import "testing"

func skipRace(*testing.T) {}
