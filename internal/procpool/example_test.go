package procpool_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/linkarc/linkarc/internal/procpool"
)

// handlers are registered by name in the parent and in the workers alike:
// the program's main (or TestMain) serves them when it is a worker.
var handlers = procpool.Handlers{
	"upper": func(in []byte) ([]byte, error) {
		out := make([]byte, len(in))
		for i, c := range in {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			out[i] = c
		}
		return out, nil
	},
}

func mainOfTheProgram() {
	if procpool.IsWorker() {
		procpool.ServeWorker(handlers) // never returns
	}
	// ... the program proper
}

// The caller's side of the fallback contract: a result, or a job over
// its budget (time, memory, crash), which the caller answers with a
// bounded path of its own, or another failure.
func Example() {
	pool := procpool.New(context.Background(), procpool.Options{
		Size:    2,
		Timeout: 20 * time.Second,
		Memory:  512 << 20,
	})
	defer pool.Close()

	res, err := pool.Do(context.Background(), "upper", []byte("page"))
	var perr *procpool.Error
	switch {
	case err == nil:
		fmt.Println(string(res.Out))
	case procpool.OverBudget(err):
		// e.g. readability alone on a capped prefix, itself a job with its
		// own budget, else record the page as failed/too_complex.
		fmt.Println("fallback:", err)
	case errors.As(err, &perr) && perr.Kind == procpool.KindHandler:
		fmt.Println("the page failed:", perr.Detail)
	default:
		fmt.Fprintln(os.Stderr, "isolation broken:", err) // canceled, or no worker starts
	}
}
