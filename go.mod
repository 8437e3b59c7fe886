module github.com/healthagent/resilience

go 1.26
