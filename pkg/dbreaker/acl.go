package dbreaker

import "strings"

// aclCommands are the commands a RedisStore sends or runs inside its
// scripts; an ACL user needs these and nothing more.
var aclCommands = []string{
	// from the client (set: the health check and the heartbeat; zrem: giving
	// back a probe slot; del, publish: the heartbeat)
	"evalsha", "eval", "script|load", "ping", "subscribe", "unsubscribe", "hello", "set", "zrem",
	// inside the scripts
	"time", "hmget", "hset", "hgetall", "hincrby", "hdel", "del", "exists", "type", "pexpire",
	"zadd", "zscore", "zcard", "zcount", "zremrangebyscore", "publish", "xadd",
	// reading the fleet: BreakerNames, Replicas, History (and the console)
	"scan", "get", "xrevrange",
}

// MinimumACL returns the ACL rules a Redis user needs to run a RedisStore
// with key prefix prefix (DefaultKeyPrefix when empty): its keys, its events
// and presence channels, and the commands the store, its scripts and its
// readers (BreakerNames, Replicas, History) use. For example:
//
//	ACL SETUSER breaker on >secret <MinimumACL("dbreaker")>
func MinimumACL(prefix string) string {
	if prefix == "" {
		prefix = DefaultKeyPrefix
	}
	rules := []string{"resetkeys", "~" + prefix + ":*", "resetchannels", "&" + prefix + ":events", "&" + prefix + ":presence", "-@all"}
	for _, c := range aclCommands {
		rules = append(rules, "+"+c)
	}
	return strings.Join(rules, " ")
}
