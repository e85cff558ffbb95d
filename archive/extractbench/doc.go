// Package extractbench measures extraction on hostile pages (issue 10):
// wall time and peak memory of each internal/hostile page at several
// sizes, each in its own process so that one page's peak is not the
// next's, with CPU profiles on request; and the cost of running
// extraction through internal/procpool against running it in process.
//
// It holds no code but its tests; they import the extraction package and
// move with it (archive today, archive/extract after issue 9).
//
//	LINKARC_MEASURE=1 go test ./archive/extractbench -run Measure -v -timeout 2h
//	go test ./archive/extractbench -run '^$' -bench Pool -benchtime 2x
package extractbench
