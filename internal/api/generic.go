package api

import (
	"context"
	"net/http"

	"github.com/stormwatch/stormwatch/internal/store"
)

// listOf serves a paginated listing of the caller's workspace.
func listOf[T any](fetch func(ctx context.Context, ws string, p store.Page) ([]T, bool, error)) handler {
	return func(w http.ResponseWriter, r *http.Request, c *caller) error {
		p, err := pageParams(r)
		if err != nil {
			return err
		}
		items, more, err := fetch(r.Context(), c.workspace, p)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, newList(items, p, more))
		return nil
	}
}

// getOf serves one object of the caller's workspace, named by the path
// parameter param.
func getOf[T any](param string, fetch func(ctx context.Context, ws, id string) (*T, error)) handler {
	return func(w http.ResponseWriter, r *http.Request, c *caller) error {
		v, err := fetch(r.Context(), c.workspace, r.PathValue(param))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, v)
		return nil
	}
}

// deleteOf serves the deletion of one object of the caller's workspace,
// audited as action.
func (s *Server) deleteOf(action, targetType string, del func(tx *store.Tx, ctx context.Context, ws, id string) error) handler {
	return func(w http.ResponseWriter, r *http.Request, c *caller) error {
		id := r.PathValue("id")
		err := s.mutate(r, c, action, targetType, func(tx *store.Tx) (string, any, error) {
			return id, nil, del(tx, r.Context(), c.workspace, id)
		})
		if err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}
