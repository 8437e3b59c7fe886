package dbreaker

import "strings"

// RedactErrorText removes what must not be stored or logged from an error's
// text: the user info and the query string of every URL in it (API keys
// travel there, e.g. "?api_key=…"). The breaker applies it to last_error.
func RedactErrorText(s string) string {
	var out strings.Builder
	for {
		i := strings.Index(s, "://")
		if i < 0 {
			out.WriteString(s)
			return out.String()
		}
		out.WriteString(s[:i+3])
		rest := s[i+3:]
		end := strings.IndexAny(rest, " \t\n\"'`<>")
		if end < 0 {
			end = len(rest)
		}
		u := rest[:end]
		authority := u
		if slash := strings.IndexAny(u, "/?#"); slash >= 0 {
			authority = u[:slash]
		}
		if at := strings.LastIndexByte(authority, '@'); at >= 0 {
			u = "REDACTED@" + u[at+1:]
		}
		if q := strings.IndexAny(u, "?#"); q >= 0 {
			u = u[:q] + "?REDACTED"
		}
		out.WriteString(u)
		s = rest[end:]
	}
}
