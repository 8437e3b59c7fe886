package retry

import (
	"errors"
	"go/build"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// The package, and the module's packages it imports, import no other
// package of the module: retry recognises a breaker's rejections by their
// Rejected method, not by importing the breaker.
func TestImportsOnlyTheModulesLeafPackages(t *testing.T) {
	const module = "github.com/healthagent/resilience/"
	leaves := []string{module + "pkg/clock", module + "pkg/config", module + "pkg/redact"}
	check := func(dir string, allowed []string) {
		pkg, err := build.ImportDir(dir, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range pkg.Imports {
			if strings.HasPrefix(imp, module) && !slices.Contains(allowed, imp) {
				t.Errorf("%s imports %s", pkg.ImportPath, imp)
			}
		}
	}
	check(".", leaves)
	for _, leaf := range leaves {
		check("../"+strings.TrimPrefix(leaf, module+"pkg/"), nil)
	}
}

// rejected is a rejection of some other library.
type rejected struct{ refused bool }

func (r rejected) Error() string  { return "refused" }
func (r rejected) Rejected() bool { return r.refused }

func TestAnyRejectionStopsTheRetry(t *testing.T) {
	for _, tt := range []struct {
		name      string
		err       error
		rejection bool
		wantCalls int64
	}{
		{"rejection", rejected{true}, true, 1},
		{"rejection joined with a reset", errors.Join(rejected{true}, syscall.ECONNRESET), true, 1},
		{"not refused, joined with a reset", errors.Join(rejected{false}, syscall.ECONNRESET), false, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsRejection(tt.err); got != tt.rejection {
				t.Errorf("IsRejection = %v, want %v", got, tt.rejection)
			}
			s := &script{errs: []error{tt.err}}
			_, _ = Execute(t.Context(), newPolicy(t, "", Config{}, WithClock(newAutoClock())), s.fn)
			if got := s.calls.Load(); got != tt.wantCalls {
				t.Errorf("%d calls, want %d", got, tt.wantCalls)
			}
		})
	}
}
