package fakeupstream

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// maxAdminBytes caps an admin request body.
const maxAdminBytes = 64 << 10

// FaultUpdate is a change of faults, as POSTed to /admin/faults:
//
//	{"reset": true, "seed": 42, "openai": {"error_rate": 0.5, "error_status": 429}}
//
// Reset, when true, first makes every upstream healthy. Seed, when
// present, then sets the seed (restarting every sequence). Each upstream
// present then gets the fault given, in full: fields left out are zero, so
// {"openai": {}} heals OpenAI. Upstreams left out keep their faults.
type FaultUpdate struct {
	Reset  bool
	Seed   *uint64
	Faults map[Upstream]Fault
}

// ParseFaultUpdate reads a FaultUpdate from JSON. Unknown upstreams or
// fields, wrong types and invalid values are errors that name the field
// ("openai.error_rate: 1.5 is not between 0 and 1").
func ParseFaultUpdate(data []byte) (FaultUpdate, error) {
	const wantObject = "fakeupstream: faults: want a JSON object such as {\"openai\": {\"error_rate\": 0.5}}"
	var raw map[string]json.RawMessage
	if err := strictDecode(data, &raw); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return FaultUpdate{}, errors.New(wantObject)
		}
		return FaultUpdate{}, fmt.Errorf("fakeupstream: faults: not valid JSON: %w", err)
	}
	if raw == nil {
		return FaultUpdate{}, errors.New(wantObject)
	}
	var up FaultUpdate
	for key, value := range raw {
		switch key {
		case "reset":
			if err := strictDecode(value, &up.Reset); err != nil {
				return FaultUpdate{}, fmt.Errorf("fakeupstream: reset: want true or false, got %s", value)
			}
		case "seed":
			var seed uint64
			if err := strictDecode(value, &seed); err != nil {
				return FaultUpdate{}, fmt.Errorf("fakeupstream: seed: want an integer from 0 to %d, got %s", uint64(1<<64-1), value)
			}
			up.Seed = &seed
		default:
			u, err := ParseUpstream(key)
			if err != nil {
				return FaultUpdate{}, fmt.Errorf("fakeupstream: unknown field %q (want reset, seed, openai, anthropic, usda or web)", key)
			}
			var f Fault
			if err := strictDecode(value, &f); err != nil {
				var fe *fieldError
				if errors.As(err, &fe) {
					return FaultUpdate{}, fmt.Errorf("fakeupstream: %s.%w", u, fe)
				}
				return FaultUpdate{}, fmt.Errorf("fakeupstream: %s: %w", u, err)
			}
			if err := f.Validate(u); err != nil {
				return FaultUpdate{}, err
			}
			if up.Faults == nil {
				up.Faults = make(map[Upstream]Fault)
			}
			up.Faults[u] = f
		}
	}
	return up, nil
}

// strictDecode decodes one JSON value into v, with nothing after it.
func strictDecode(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return errors.New("empty body")
		}
		return err
	}
	if dec.More() {
		return errors.New("more than one JSON value")
	}
	return nil
}

// Apply applies the update to s (see FaultUpdate). It has been validated
// by ParseFaultUpdate; Apply checks the faults again, for updates built in
// Go, and changes nothing when one is invalid.
func (s *Server) Apply(up FaultUpdate) error {
	for u, f := range up.Faults {
		if err := f.Validate(u); err != nil {
			return err
		}
	}
	s.adminMu.Lock()
	defer s.adminMu.Unlock()
	if up.Reset {
		for _, u := range Upstreams() {
			s.storeSequence(u, Fault{})
		}
	}
	if up.Seed != nil {
		s.seed.Store(*up.Seed)
		for _, u := range Upstreams() {
			s.storeSequence(u, s.Fault(u))
		}
	}
	for _, u := range Upstreams() {
		if f, ok := up.Faults[u]; ok {
			s.storeSequence(u, f)
		}
	}
	return nil
}

// faultSettings is the JSON of GET /admin/faults: the seed and every
// upstream's fault, in a form POST /admin/faults accepts back.
type faultSettings struct {
	Seed      uint64 `json:"seed"`
	OpenAI    Fault  `json:"openai"`
	Anthropic Fault  `json:"anthropic"`
	USDA      Fault  `json:"usda"`
	Web       Fault  `json:"web"`
}

func (s *Server) settings() faultSettings {
	return faultSettings{
		Seed:      s.Seed(),
		OpenAI:    s.Fault(OpenAI),
		Anthropic: s.Fault(Anthropic),
		USDA:      s.Fault(USDA),
		Web:       s.Fault(Web),
	}
}

func (s *Server) getFaults(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.settings())
}

func (s *Server) postFaults(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAdminBytes))
	if err != nil {
		writeAdminError(w, fmt.Errorf("fakeupstream: reading the body: %w", err))
		return
	}
	up, err := ParseFaultUpdate(body)
	if err == nil {
		err = s.Apply(up)
	}
	if err != nil {
		writeAdminError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, s.settings())
}

func (s *Server) deleteFaults(w http.ResponseWriter, _ *http.Request) {
	s.ResetFaults()
	writeJSON(w, http.StatusOK, s.settings())
}

func (s *Server) getStats(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.Stats())
}

func (s *Server) deleteStats(w http.ResponseWriter, _ *http.Request) {
	s.ResetStats()
	writeJSON(w, http.StatusOK, s.Stats())
}

// writeAdminError answers 400 with {"error": message}.
func writeAdminError(w http.ResponseWriter, err error) {
	writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(`{"error":`+strconv.Quote(err.Error())+`}`)
	}
	writeReply(w, reply{status: status, body: body})
}
