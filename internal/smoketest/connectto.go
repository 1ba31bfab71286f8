package smoketest

import (
	"context"
	"fmt"
	"net"
	"strings"

	"github.com/graviton-cd/graviton-cd/internal/progress"
)

// ConnectRule is one --connect-to HOST:PORT:ADDR:PORT mapping, as curl's: a
// connection meant for HOST:PORT goes to ADDR:PORT instead, while the request
// keeps its Host header and TLS server name. An empty HOST or PORT matches any;
// an empty ADDR or PORT keeps the original.
type ConnectRule struct {
	Host, Port     string
	ToAddr, ToPort string
	text           string
}

// ParseConnectRule parses HOST:PORT:ADDR:PORT. IPv6 addresses go in brackets:
// "::[::1]:8080".
func ParseConnectRule(s string) (ConnectRule, error) {
	fields, err := splitConnectTo(s)
	if err != nil {
		return ConnectRule{}, err
	}
	if len(fields) != 4 {
		return ConnectRule{}, fmt.Errorf("%q has %d fields: use HOST:PORT:ADDR:PORT, for example my-alb-123.us-east-1.elb.amazonaws.com:80:127.0.0.1:8080 (an empty HOST or PORT matches any)", s, len(fields))
	}
	r := ConnectRule{Host: strings.ToLower(fields[0]), Port: fields[1], ToAddr: fields[2], ToPort: fields[3], text: s}
	for _, p := range []string{r.Port, r.ToPort} {
		if p == "" {
			continue
		}
		if !validPort(p) {
			return ConnectRule{}, fmt.Errorf("%q: port %q is not a number from 1 to 65535", s, p)
		}
	}
	for _, h := range []string{r.Host, r.ToAddr} {
		if strings.ContainsAny(h, " /?#@\t") {
			return ConnectRule{}, fmt.Errorf("%q: %q is not a host name or address: give the name alone, without scheme or path", s, h)
		}
	}
	if r.ToAddr == "" && r.ToPort == "" {
		return ConnectRule{}, fmt.Errorf("%q maps nowhere: give the address and port to connect to, as in HOST:PORT:127.0.0.1:8080", s)
	}
	return r, nil
}

// splitConnectTo splits on colons outside [brackets] and strips the brackets.
func splitConnectTo(s string) ([]string, error) {
	var fields []string
	for {
		if strings.HasPrefix(s, "[") {
			end := strings.IndexByte(s, ']')
			if end < 0 {
				return nil, fmt.Errorf("%q: unclosed [ around an IPv6 address", s)
			}
			field, rest := s[1:end], s[end+1:]
			if rest != "" && rest[0] != ':' {
				return nil, fmt.Errorf("%q: expected ':' after ]", s)
			}
			fields = append(fields, field)
			if rest == "" {
				return fields, nil
			}
			s = rest[1:]
			continue
		}
		field, rest, more := strings.Cut(s, ":")
		fields = append(fields, field)
		if !more {
			return fields, nil
		}
		s = rest
	}
}

// String returns the rule as typed.
func (r ConnectRule) String() string { return r.text }

// matches reports whether a connection to host:port falls under the rule.
func (r ConnectRule) matches(host, port string) bool {
	return (r.Host == "" || strings.EqualFold(r.Host, host)) && (r.Port == "" || r.Port == port)
}

// connectToDialer dials through the first matching ConnectRule, or directly.
type connectToDialer struct {
	rules  []ConnectRule
	dialer *net.Dialer
	log    *progress.Logger
}

// DialContext dials addr, or where the first matching rule sends it.
func (d *connectToDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return d.dialer.DialContext(ctx, network, addr)
	}
	for _, r := range d.rules {
		if !r.matches(host, port) {
			continue
		}
		toHost, toPort := host, port
		if r.ToAddr != "" {
			toHost = r.ToAddr
		}
		if r.ToPort != "" {
			toPort = r.ToPort
		}
		target := net.JoinHostPort(toHost, toPort)
		d.log.Debugf("connect to %s instead of %s (--connect-to %s)", target, addr, r)
		return d.dialer.DialContext(ctx, network, target)
	}
	return d.dialer.DialContext(ctx, network, addr)
}
