package myaccount

import (
	"net/http"
	"net/netip"
	"strconv"
	"strings"
)

// publicBase is the scheme://host that absolute Location headers start with,
// and DPoP proofs must name:
// [Config.PublicURL], else the request's own scheme and Host, which trusted
// forwarded headers may replace.
//
// Of X-Forwarded-Host and X-Forwarded-Proto only the last entry counts: each
// proxy appends to what it received, so the last entry is the one the nearest
// (trusted) proxy added, and any earlier one may come from the client. A value
// that is not a plain host[:port] (such as "api.example.com@evil.example" or
// "evil.example/phish?x=") or a scheme other than http and https is ignored.
func (c *Config) publicBase(r *http.Request) string {
	if c.PublicURL != "" {
		return c.PublicURL
	}
	scheme, host := "http", r.Host
	if r.TLS != nil {
		scheme = "https"
	}
	if c.TrustForwardedHeaders {
		if p := strings.ToLower(lastValue(r.Header, "X-Forwarded-Proto")); p == "http" || p == "https" {
			scheme = p
		}
		if h := lastValue(r.Header, "X-Forwarded-Host"); validHost(h) {
			host = h
		}
	}
	return scheme + "://" + host
}

// lastValue is the last entry of a comma-separated header that may be sent on
// several lines: the entry the nearest proxy added.
func lastValue(h http.Header, name string) string {
	lines := h.Values(name)
	if len(lines) == 0 {
		return ""
	}
	line := lines[len(lines)-1]
	return strings.TrimSpace(line[strings.LastIndexByte(line, ',')+1:])
}

// validHost reports whether s is host[:port] and nothing else: a DNS name, an
// IPv4 address or a bracketed IPv6 address, and a port from 1 to 65535.
func validHost(s string) bool {
	host := s
	if i := strings.LastIndexByte(s, ':'); i >= 0 && !strings.HasSuffix(s, "]") {
		if !validPort(s[i+1:]) {
			return false
		}
		host = s[:i]
	}
	if inner, ok := strings.CutPrefix(host, "["); ok {
		inner, ok = strings.CutSuffix(inner, "]")
		ip, err := netip.ParseAddr(inner)
		return ok && err == nil && ip.Is6() && ip.Zone() == ""
	}
	return validDNSName(host)
}

// validPort reports whether s is a port number from 1 to 65535 in decimal,
// without a sign or leading zeros.
func validPort(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n >= 1 && n <= 65535 && s[0] >= '1' && s[0] <= '9'
}

// validDNSName reports whether s is a host name of letters, digits and
// hyphens in dot-separated labels of 1 to 63 characters (IPv4 addresses are
// such names too).
func validDNSName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}
