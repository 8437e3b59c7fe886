package fakeupstream

import (
	"flag"
	"io"
	"strings"
	"testing"
)

func TestRegisterFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    Config
		wantErr string
	}{
		{"nothing set", nil, Config{}, ""},
		{
			"everything set",
			[]string{"-up-seed", "7", "-up-openai-key", "sk-1", "-up-anthropic-key", "ant-1", "-up-usda-key", "usda-1", "-up-faults", `{"openai":{"error_rate":0.5,"error_status":429},"web":{"outage":"reset"}}`},
			Config{Seed: 7, OpenAIKey: "sk-1", AnthropicKey: "ant-1", USDAKey: "usda-1", Faults: map[Upstream]Fault{OpenAI: {ErrorRate: 0.5, ErrorStatus: 429}, Web: {Outage: OutageReset}}},
			"",
		},
		{"invalid fault", []string{"-up-faults", `{"usda":{"hang_rate":2}}`}, Config{}, "usda.hang_rate: 2 is not between 0 and 1"},
		{"unknown upstream", []string{"-up-faults", `{"gpt":{}}`}, Config{}, `unknown field "gpt"`},
		{"seed in the faults", []string{"-up-faults", `{"seed":1}`}, Config{}, "set the seed with -up-seed"},
		{"reset in the faults", []string{"-up-faults", `{"reset":true}`}, Config{}, "reset has no meaning"},
		{"bad seed", []string{"-up-seed", "-3"}, Config{}, "-up-seed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("demo", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			var cfg Config
			cfg.RegisterFlags(fs, "up-")
			err := fs.Parse(tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if cfg.Seed != tt.want.Seed || cfg.OpenAIKey != tt.want.OpenAIKey || cfg.AnthropicKey != tt.want.AnthropicKey || cfg.USDAKey != tt.want.USDAKey || len(cfg.Faults) != len(tt.want.Faults) {
				t.Fatalf("config %+v, want %+v", cfg, tt.want)
			}
			for u, f := range tt.want.Faults {
				if cfg.Faults[u] != f {
					t.Errorf("%s fault %+v, want %+v", u, cfg.Faults[u], f)
				}
			}
		})
	}
}
