package console

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/healthagent/resilience/pkg/dbreaker"
)

// The JSON API, relative to where the console is mounted:
//
//	GET  api/state                    every breaker and replica (stateDoc)
//	GET  api/breakers/{name}/history  a breaker's log, newest first (?n=1..1000)
//	POST api/breakers/{name}/{action} force-open, force-closed, disable or reset,
//	                                  with "Authorization: Bearer <token>" and
//	                                  the body {"by": "<operator's name>"}
//	GET  api/events                   the live stream (Server-Sent Events
//	                                  "state" and "history")

// actions maps the API's action names to overrides.
var actions = map[string]dbreaker.Action{
	"force-open":   dbreaker.ActionForceOpen,
	"force-closed": dbreaker.ActionForceClosed,
	"disable":      dbreaker.ActionDisable,
	"reset":        dbreaker.ActionReset,
}

// maxActionBody bounds an action's body.
const maxActionBody = 4 << 10

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, format string, args ...any) {
	writeJSON(w, status, map[string]string{"error": fmt.Sprintf(format, args...)})
}

func (c *Console) getState(w http.ResponseWriter, r *http.Request) {
	breakers, err := c.readAll(r.Context())
	if err != nil {
		writeError(w, http.StatusBadGateway, "reading the fleet from Redis: %v", err)
		return
	}
	now := c.clock.Now()
	writeJSON(w, http.StatusOK, c.assemble(breakers, c.book.list(now), now))
}

func (c *Console) getHistory(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if err := dbreaker.ValidateName(name); err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	n := c.cfg.History
	if q := r.URL.Query().Get("n"); q != "" {
		v, err := strconv.Atoi(q)
		if err != nil || v < 1 || v > dbreaker.MaxHistory {
			writeError(w, http.StatusBadRequest, "n=%q: want a whole number from 1 to %d", q, dbreaker.MaxHistory)
			return
		}
		n = v
	}
	ctx, cancel := context.WithTimeout(r.Context(), c.timeout)
	defer cancel()
	entries, err := c.store.History(ctx, name, n)
	if err != nil {
		writeError(w, http.StatusBadGateway, "%v", err)
		return
	}
	writeJSON(w, http.StatusOK, newHistoryDoc(name, entries))
}

// postAction applies an operator action. The token is checked before
// anything else is read, so a caller without it learns nothing.
func (c *Console) postAction(w http.ResponseWriter, r *http.Request) {
	if c.token == nil {
		writeError(w, http.StatusForbidden, "this console is read-only: no token is configured (CONSOLE_TOKEN)")
		return
	}
	if !c.token.allows(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="breaker console"`)
		writeError(w, http.StatusUnauthorized, "actions need the header Authorization: Bearer <token>")
		return
	}
	name, actionName := r.PathValue("name"), r.PathValue("action")
	if err := dbreaker.ValidateName(name); err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	action, ok := actions[actionName]
	if !ok {
		writeError(w, http.StatusBadRequest, "unknown action %q: want force-open, force-closed, disable or reset", actionName)
		return
	}
	var body struct {
		By string `json:"by"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxActionBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, `the body must be {"by": "<your name>"}: %v`, err)
		return
	}
	ctx, err := dbreaker.ContextWithOperator(r.Context(), body.By)
	if err != nil {
		writeError(w, http.StatusBadRequest, "by: %v", err)
		return
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	known, err := c.known(ctx, name)
	if err != nil {
		writeError(w, http.StatusBadGateway, "%v", err)
		return
	}
	if !known {
		writeError(w, http.StatusNotFound, "no breaker %s under the prefix %q: no key in Redis and no replica holds one", name, c.store.KeyPrefix())
		return
	}
	snap, _, err := c.store.Override(ctx, name, action)
	if err != nil {
		writeError(w, http.StatusBadGateway, "%s %s: %v", actionName, name, err)
		return
	}
	c.logger.Info("[CONSOLE] operator action", "breaker", name, "action", action.String(), "by", body.By,
		"state", snap.State.String(), "gen", snap.Generation, "remote", r.RemoteAddr)
	writeJSON(w, http.StatusOK, newBreakerDoc(snap))
}

// known reports whether the console may act on a breaker: it has a state
// or a log in Redis (one EXISTS), or a replica holds it (one the console
// has heard, else the heartbeats read again, which SCANs the keyspace:
// only for a name with no key, such as a typo). The console acts on no
// other, so a typo makes no new breaker.
func (c *Console) known(ctx context.Context, name string) (bool, error) {
	exists, err := c.store.BreakerExists(ctx, name)
	if err != nil || exists {
		return exists, err
	}
	if c.book.holds(name, c.clock.Now()) {
		return true, nil
	}
	began := c.clock.Now()
	replicas, err := c.store.Replicas(ctx)
	if err != nil {
		return false, err
	}
	c.book.hearListing(replicas, began)
	for _, p := range replicas {
		for _, v := range p.Breakers {
			if v.Name == name {
				return true, nil
			}
		}
	}
	return false, nil
}

// events streams the fleet to one viewer until it leaves, the console
// closes, or a write takes longer than the viewer's lag allows.
func (c *Console) events(w http.ResponseWriter, r *http.Request) {
	v := newViewer()
	if !c.hub.join(v) {
		writeError(w, http.StatusServiceUnavailable, "the console is closed")
		return
	}
	defer c.hub.leave(v)
	rc := http.NewResponseController(w)
	// A stream outlives any write timeout of the server; each write gets
	// a deadline of its own instead (the network's real time, not the
	// console's clock).
	writing := func() { _ = rc.SetWriteDeadline(time.Now().Add(c.lag)) }
	writing()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write([]byte("retry: 2000\n\n")); err != nil || rc.Flush() != nil {
		return
	}
	keepAlive := time.NewTicker(15 * time.Second)
	defer keepAlive.Stop()
	for {
		var frames [][]byte
		select {
		case <-r.Context().Done():
			return
		case <-v.done:
			return
		case <-v.ready:
			frames = v.take()
		case <-keepAlive.C:
			frames = [][]byte{[]byte(": keep-alive\n\n")}
		}
		writing()
		for _, f := range frames {
			if _, err := w.Write(f); err != nil {
				return
			}
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}
