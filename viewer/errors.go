package viewer

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/linkarc/linkarc/storage"
	"github.com/linkarc/linkarc/storage/record"
)

// isAPI reports whether r is for the JSON API, whose errors are JSON too.
func isAPI(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/api/") || r.URL.Path == "/healthz"
}

// errorPage answers with status and a message for people: an HTML page, or
// {"error": message} on the API. Messages never carry internal details.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, status int, message string) {
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "30")
	}
	if isAPI(r) {
		s.writeJSON(w, r, status, map[string]string{"error": message})
		return
	}
	s.render(w, r, status, "error", page{
		Title: http.StatusText(status),
		Data:  errorView{Status: status, Text: http.StatusText(status), Message: message},
	})
}

// notFound is the catch-all route.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	s.errorPage(w, r, http.StatusNotFound, "There is nothing at this address.")
}

// fail answers a request whose store read (or search) failed, choosing the
// status from the error: a missing object is a 404 saying what is missing,
// a bad query a 400 saying what is wrong, anything else from the store a 503.
// The error itself goes to the log only: it may name the store's endpoint.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, what string, err error) {
	switch {
	case storage.IsNotExist(err) && s.redirectMerged(w, r):
		// An article merged into another: redirected there.
	case storage.IsNotExist(err):
		s.errorPage(w, r, http.StatusNotFound, "No "+what+" by that name is in the archive.")
	case errors.Is(err, errBadQuery):
		s.errorPage(w, r, http.StatusBadRequest, strings.TrimPrefix(err.Error(), errBadQuery.Error()+": "))
	case errors.Is(err, record.ErrUnreadable):
		s.log.Warn("viewer: unreadable record", "path", r.URL.Path, "err", err)
		s.errorPage(w, r, http.StatusInternalServerError, "The "+what+" record in the archive is damaged and cannot be shown.")
	case r.Context().Err() != nil:
		// The client went away; nobody is listening for an answer.
		s.log.Debug("viewer: request abandoned", "path", r.URL.Path, "err", err)
	case errors.Is(err, context.DeadlineExceeded):
		s.log.Warn("viewer: store timed out", "path", r.URL.Path, "err", err)
		s.errorPage(w, r, http.StatusServiceUnavailable,
			"The archive store did not answer in time. Try again in a moment.")
	default:
		s.log.Warn("viewer: store read failed", "path", r.URL.Path, "err", err)
		s.errorPage(w, r, http.StatusServiceUnavailable,
			"The archive store is unavailable right now, so this "+what+" cannot be shown. Try again in a moment.")
	}
}

// badSlug answers a slug that cannot name anything in the archive. It is a
// 404 like any unknown name: the store is never asked.
func (s *Server) badSlug(w http.ResponseWriter, r *http.Request, what string) {
	s.errorPage(w, r, http.StatusNotFound, "No "+what+" by that name is in the archive.")
}

// publicError describes a store failure for /healthz and the pages without
// its details (endpoints, addresses), which go to the log.
func publicError(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, context.DeadlineExceeded):
		return "the store did not answer in time"
	case errors.Is(err, context.Canceled):
		return "interrupted"
	default:
		return "the store could not be read"
	}
}
