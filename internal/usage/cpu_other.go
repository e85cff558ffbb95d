//go:build !unix

package usage

import "time"

// processCPU is 0 where there is no getrusage(2).
func processCPU() time.Duration { return 0 }
