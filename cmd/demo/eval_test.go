package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEvalCommand(t *testing.T) {
	env := envOf(map[string]string{"REDIS_URL": "redis://127.0.0.1:1", "DATABASE_URL": "postgres://127.0.0.1:1/x?sslmode=disable"})
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.txt", "# a comment\n2 large eggs | 01129 100 | 155 | 2 x 50 g\na medium banana | 09040 118 | 105 | 118 g\n")
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"eval", "-captions", good}, env, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s %s", code, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "2 captions: 100.0 % within 25 %") {
		t.Fatalf("output %q", out.String())
	}
	// A reference the parser misses by far: reported, and the exit code says so.
	bad := write("bad.txt", "2 large eggs | 01129 100 | 900 | wrong on purpose\n")
	out.Reset()
	if code := run(context.Background(), []string{"eval", "-captions", bad}, env, &out, &errOut); code != 1 || !strings.Contains(out.String(), `off by  -83 %: "2 large eggs"`) {
		t.Fatalf("exit %d: %q", code, out.String())
	}
	broken := write("broken.txt", "2 large eggs | 01129 100\n")
	if code := run(context.Background(), []string{"eval", "-captions", broken}, env, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "broken.txt:1") {
		t.Fatalf("exit %d: %q", code, errOut.String())
	}
}
