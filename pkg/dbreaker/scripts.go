package dbreaker

import (
	"context"
	"embed"
	"fmt"

	"github.com/redis/go-redis/v9"
)

//go:embed lua/*.lua
var luaFiles embed.FS

// luaScript is one embedded script: lua/lib.lua followed by the script's own
// file, run with EVALSHA (go-redis falls back to EVAL on NOSCRIPT).
type luaScript struct {
	name string
	*redis.Script
}

func loadScript(name string) (luaScript, error) {
	lib, err := luaFiles.ReadFile("lua/lib.lua")
	if err != nil {
		return luaScript{}, fmt.Errorf("dbreaker: embedded script: %w", err)
	}
	body, err := luaFiles.ReadFile("lua/" + name + ".lua")
	if err != nil {
		return luaScript{}, fmt.Errorf("dbreaker: embedded script: %w", err)
	}
	return luaScript{name: name, Script: redis.NewScript(string(lib) + "\n" + string(body))}, nil
}

// scriptSet holds the compiled scripts; built once per RedisStore.
type scriptSet struct {
	acquire, report, snapshot, override luaScript
}

func newScriptSet() (*scriptSet, error) {
	var s scriptSet
	for name, dst := range map[string]*luaScript{
		"acquire": &s.acquire, "report": &s.report, "snapshot": &s.snapshot, "override": &s.override,
	} {
		script, err := loadScript(name)
		if err != nil {
			return nil, err
		}
		*dst = script
	}
	return &s, nil
}

func (s *scriptSet) all() []luaScript {
	return []luaScript{s.acquire, s.report, s.snapshot, s.override}
}

// run executes the script and returns its reply.
func (s luaScript) run(ctx context.Context, c redis.Scripter, keys []string, args ...any) (any, error) {
	v, err := s.Run(ctx, c, keys, args...).Result()
	if err != nil {
		return nil, fmt.Errorf("dbreaker: %s script: %w", s.name, err)
	}
	return v, nil
}
