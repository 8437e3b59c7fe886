package testpg

import (
	"context"
	"regexp"
	"strings"
	"testing"
)

func TestOpenUsesSchemaOfItsOwn(t *testing.T) {
	db := Open(t)
	var schema string
	if err := db.GetContext(context.Background(), &schema, "SELECT current_schema()"); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(schema, "t_testopenusesschemaofitsown_") {
		t.Fatalf("current_schema() = %q, want the test's own schema", schema)
	}
	if _, err := db.Exec("CREATE TABLE probe (id int)"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.Get(&n, "SELECT count(*) FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'probe'", schema); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("table probe found %d times in schema %s, want 1", n, schema)
	}
}

func TestNewSchemaIsDroppedAtCleanup(t *testing.T) {
	db := Connect(t)
	var schema string
	t.Run("inner", func(t *testing.T) {
		schema = NewSchema(t, db)
		if _, err := db.Exec("CREATE TABLE " + schema + ".probe (id int)"); err != nil {
			t.Fatal(err)
		}
	})
	var n int
	if err := db.Get(&n, "SELECT count(*) FROM information_schema.schemata WHERE schema_name = $1", schema); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("schema %s still exists after the subtest's cleanup", schema)
	}
}

func TestUniqueName(t *testing.T) {
	valid := regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)
	tests := []struct {
		name   string
		prefix string
	}{
		{"short", "t"},
		{"Mixed Case/and slashes-and-dashes", "t"},
		{strings.Repeat("very long test name ", 10), "role"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := UniqueName(t, tt.prefix), UniqueName(t, tt.prefix)
			if a == b {
				t.Errorf("two calls gave the same name %q", a)
			}
			for _, n := range []string{a, b} {
				if !valid.MatchString(n) {
					t.Errorf("UniqueName = %q, not a plain lower-case identifier of at most 63 bytes", n)
				}
			}
		})
	}
}

func TestWithOption(t *testing.T) {
	tests := []struct {
		dsn, setting, value, want string
	}{
		{"postgres://u@h:5432/db?sslmode=disable", "search_path", `"s1"`, "postgres://u@h:5432/db?options=-c+search_path%3D%22s1%22&sslmode=disable"},
		{"postgres://u@h/db?options=-c+a%3D1", "b", "2", "postgres://u@h/db?options=-c+a%3D1+-c+b%3D2"},
	}
	for _, tt := range tests {
		t.Run(tt.setting, func(t *testing.T) {
			got, err := WithOption(tt.dsn, tt.setting, tt.value)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("WithOption = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	got := redact("pq: password authentication failed: s3cret", "postgres://u:s3cret@h/db")
	if strings.Contains(got, "s3cret") {
		t.Errorf("redact kept the password: %q", got)
	}
}
