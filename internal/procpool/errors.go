package procpool

import (
	"errors"
	"fmt"
	"time"
)

// Kind is how a job failed.
type Kind int

const (
	KindTime     Kind = iota + 1 // over its wall-clock budget: killed with its worker
	KindMemory                   // over its memory budget: killed by the pool, or refused by the OS limit
	KindCrash                    // its worker died: panic, os.Exit, fatal runtime error, protocol breach
	KindHandler                  // the handler returned an error; the worker lives on
	KindUnknown                  // no handler of that name in the worker
	KindCanceled                 // the caller's context or the pool ended first
	KindRefused                  // the input is over Options.MaxInput; nothing was run
	KindStart                    // no worker could be started (a setup fault, not the input's)
)

var kindText = map[Kind]string{
	KindTime: "over time budget", KindMemory: "over memory budget", KindCrash: "worker crashed",
	KindHandler: "failed", KindUnknown: "no such handler", KindCanceled: "canceled",
	KindRefused: "input too large", KindStart: "worker did not start",
}

func (k Kind) String() string {
	if s, ok := kindText[k]; ok {
		return s
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Sentinels for errors.Is: an *Error matches the one of its Kind.
var (
	ErrOverTime   = errors.New("procpool: over time budget")
	ErrOverMemory = errors.New("procpool: over memory budget")
	ErrCrashed    = errors.New("procpool: worker crashed")
	ErrCanceled   = errors.New("procpool: canceled")
)

// Error is a job that did not return a result.
type Error struct {
	Job     string        // the handler's name
	Kind    Kind          // what happened
	Detail  string        // short: the handler's error, the panic or fatal error line, the exit status
	Elapsed time.Duration // how long the job ran before it ended (0 when it never ran)
	PeakRSS int64         // bytes: the worker's last RSS reading, when the pool killed it for memory
	Worker  int           // the worker's process id, 0 when none ran the job
}

func (e *Error) Error() string {
	s := "procpool: " + e.Job + ": " + e.Kind.String()
	if e.Elapsed > 0 {
		s += fmt.Sprintf(" after %.2fs", e.Elapsed.Seconds())
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Is matches the sentinel of e's Kind.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrOverTime:
		return e.Kind == KindTime
	case ErrOverMemory:
		return e.Kind == KindMemory
	case ErrCrashed:
		return e.Kind == KindCrash
	case ErrCanceled:
		return e.Kind == KindCanceled
	}
	return false
}

// OverBudget reports whether err says the input cost more than a worker
// may spend on it (time, memory, or a crash of the libraries it drives):
// the caller should then take a bounded, cheaper path of its own or give
// the input up, and go on with the next. Handler errors, cancellation and
// start failures are not over budget.
func OverBudget(err error) bool {
	var e *Error
	return errors.As(err, &e) && (e.Kind == KindTime || e.Kind == KindMemory || e.Kind == KindCrash || e.Kind == KindRefused)
}
