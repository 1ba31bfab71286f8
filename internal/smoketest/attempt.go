package smoketest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/graviton-cd/graviton-cd/internal/progress"
)

const (
	// maxBodyBytes caps how much of a response is read and matched.
	maxBodyBytes = 1 << 20
	// defaultRequestTimeout bounds one attempt when the check sets no
	// max latency, so one hung connection cannot eat the whole deadline.
	defaultRequestTimeout = 30 * time.Second
	// minRequestTimeout keeps a tiny max latency from cutting requests
	// before a slow answer can even be measured.
	minRequestTimeout = 100 * time.Millisecond
)

// AttemptFailure is why one attempt did not pass.
type AttemptFailure struct {
	// Reason names the unmet expectation or the connection problem.
	Reason string
	// Observed is what came back, nil when nothing did.
	Observed *Observation
	// Retryable is false for failures that waiting cannot fix.
	Retryable bool
	// Hint tells the user what to do about a failure that is not retryable.
	Hint string
}

// Error reads as one line for the CI log: reason, what came back, what to do.
func (f *AttemptFailure) Error() string {
	var b strings.Builder
	b.WriteString(f.Reason)
	if f.Observed != nil {
		b.WriteString(" (")
		b.WriteString(f.Observed.Describe())
		b.WriteString(")")
	}
	if f.Hint != "" {
		b.WriteString(": ")
		b.WriteString(f.Hint)
	}
	return b.String()
}

// key is what makes two failures "the same" for the log: the reason with
// its durations (a latency that differs each time) taken out, and the
// status. A repeat
// of the same failure is not printed again.
func (f *AttemptFailure) key() string {
	k := measurement.ReplaceAllString(f.Reason, "#")
	if f.Observed != nil {
		k += "|" + strconv.Itoa(f.Observed.Status)
	}
	return k
}

// measurement matches a duration such as 312ms or 1.5s.
var measurement = regexp.MustCompile(`\b\d+(\.\d+)?(ns|µs|us|ms|s|m|h)\b`)

// errTooManyRedirects ends a redirect chain longer than MaxRedirects.
var errTooManyRedirects = fmt.Errorf("stopped after %d redirects", MaxRedirects)

// newTransport builds the one transport all checks share: --connect-to
// through the dialer, --ca-cert and --insecure in the TLS config. The TLS
// server name stays the URL's host whatever address is dialled.
func newTransport(p *Plan, log *progress.Logger) *http.Transport {
	dialer := &connectToDialer{rules: p.ConnectTo, dialer: &net.Dialer{Timeout: 10 * time.Second}, log: log}
	proxy := http.ProxyFromEnvironment
	if len(p.ConnectTo) > 0 {
		proxy = nil // --connect-to names where to connect; a proxy would override it
	}
	return &http.Transport{
		Proxy:               proxy,
		DialContext:         dialer.DialContext,
		TLSClientConfig:     &tls.Config{RootCAs: p.RootCAs, InsecureSkipVerify: p.Insecure, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout: 10 * time.Second,
		DisableKeepAlives:   true,
		ForceAttemptHTTP2:   true,
	}
}

// newClient wraps the shared transport with the check's redirect policy.
func newClient(t http.RoundTripper, c *Check) *http.Client {
	follow := !c.Expect.Status.IncludesRedirect()
	return &http.Client{
		Transport: t,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if !follow {
				return http.ErrUseLastResponse
			}
			if len(via) > MaxRedirects {
				return errTooManyRedirects
			}
			return nil
		},
	}
}

// requestTimeout is how long one attempt may wait for its answer.
func requestTimeout(c *Check) time.Duration {
	if c.Expect.MaxLatency <= 0 {
		return defaultRequestTimeout
	}
	return max(2*c.Expect.MaxLatency, minRequestTimeout)
}

// attempt sends the check's request once and judges the answer. A nil
// failure means the attempt passed.
func attempt(ctx context.Context, client *http.Client, c *Check, userAgent string, now func() time.Time) (*Observation, *AttemptFailure) {
	timeout := requestTimeout(c)
	reqCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var body io.Reader
	if c.Body != "" {
		body = strings.NewReader(c.Body)
	}
	req, err := http.NewRequestWithContext(reqCtx, c.Method, c.URL.String(), body)
	if err != nil {
		return nil, &AttemptFailure{Reason: fmt.Sprintf("build request: %v", err), Hint: "fix the check's method or URL"}
	}
	for name, value := range c.Headers {
		if strings.EqualFold(name, "Host") {
			req.Host = value
			continue
		}
		req.Header.Set(name, value)
	}
	if req.Header.Get("User-Agent") == "" && userAgent != "" {
		req.Header.Set("User-Agent", userAgent)
	}

	start := now()
	resp, err := client.Do(req)
	if err != nil {
		return nil, classifyTransportError(err, c, timeout)
	}
	defer resp.Body.Close()
	data, readErr := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes))
	obs := &Observation{
		Status:     resp.StatusCode,
		StatusText: resp.Status,
		Header:     resp.Header,
		Body:       data,
		Latency:    now().Sub(start),
		Redirects:  redirectCount(resp),
		FinalURL:   resp.Request.URL.String(),
	}
	if readErr != nil {
		f := classifyTransportError(readErr, c, timeout)
		f.Reason = "reading the body: " + f.Reason
		f.Observed = obs
		return obs, f
	}
	unmet := c.Expect.Evaluate(obs)
	if len(unmet) == 0 {
		return obs, nil
	}
	f := &AttemptFailure{Reason: strings.Join(unmet, "; "), Observed: obs, Retryable: true}
	if !retryableStatus(obs.Status) && !c.Expect.Status.Match(obs.Status) {
		f.Retryable = false
		f.Hint = fmt.Sprintf("the app answered %s; waiting will not change that: check the URL, method and headers", obs.StatusText)
	}
	return obs, f
}

// redirectCount walks back from the final request through the responses
// that redirected to it.
func redirectCount(resp *http.Response) int {
	n := 0
	for r := resp.Request; r != nil && r.Response != nil; r = r.Response.Request {
		n++
	}
	return n
}

// retryableStatus reports whether an unexpected status may go away by
// waiting: server errors (502/503/504 while targets register), 404 (a
// listener rule not yet in place), 408, 425 and 429. Other 4xx are the
// request's fault.
func retryableStatus(code int) bool {
	switch {
	case code >= 500, code < 400:
		return true
	case code == http.StatusNotFound, code == http.StatusRequestTimeout, code == http.StatusTooEarly, code == http.StatusTooManyRequests:
		return true
	}
	return false
}

// classifyTransportError turns a failed request into a reason a user can act
// on, and decides whether waiting may help.
func classifyTransportError(err error, c *Check, timeout time.Duration) *AttemptFailure {
	var (
		dnsErr       *net.DNSError
		unknownCA    x509.UnknownAuthorityError
		hostnameErr  x509.HostnameError
		invalidCert  x509.CertificateInvalidError
		verifyErr    *tls.CertificateVerificationError
		recordHeader tls.RecordHeaderError
	)
	host := c.URL.Host
	switch {
	case errors.Is(err, errTooManyRedirects):
		return &AttemptFailure{Reason: fmt.Sprintf("redirect loop: %v", errTooManyRedirects), Hint: "fix the app's redirects, or expect the 3xx status to check the redirect itself"}
	case errors.As(err, &unknownCA):
		return &AttemptFailure{Reason: fmt.Sprintf("TLS certificate of %s is signed by an unknown authority", host), Hint: "pass --ca-cert FILE with the CA that signed it (or --insecure for a throwaway test stack)"}
	case errors.As(err, &hostnameErr):
		return &AttemptFailure{Reason: fmt.Sprintf("TLS certificate is not valid for %s (%v)", c.URL.Hostname(), hostnameErr), Hint: "test the name the certificate was issued for; --connect-to can send that name to any address"}
	case errors.As(err, &invalidCert), errors.As(err, &verifyErr):
		return &AttemptFailure{Reason: fmt.Sprintf("TLS certificate of %s is not valid (%v)", host, err), Hint: "renew or fix the certificate, or pass --ca-cert FILE"}
	case errors.As(err, &recordHeader):
		return &AttemptFailure{Reason: fmt.Sprintf("%s does not speak TLS", host), Hint: "use an http:// URL, or check the port in --url and --connect-to"}
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return &AttemptFailure{Reason: fmt.Sprintf("DNS name %s not found (a new load balancer's name can take minutes to resolve; --connect-to reaches it before then)", dnsErr.Name), Retryable: true}
	case errors.As(err, &dnsErr):
		return &AttemptFailure{Reason: fmt.Sprintf("DNS lookup of %s failed: %v", dnsErr.Name, dnsErr.Err), Retryable: true}
	case errors.Is(err, syscall.ECONNREFUSED):
		return &AttemptFailure{Reason: "connection refused (nothing listening yet)", Retryable: true}
	case errors.Is(err, syscall.ECONNRESET):
		return &AttemptFailure{Reason: "connection reset by the server", Retryable: true}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.EPIPE):
		return &AttemptFailure{Reason: "the server closed the connection without a full answer", Retryable: true}
	case errors.Is(err, context.DeadlineExceeded), isTimeout(err):
		reason := fmt.Sprintf("no answer within %s", timeout)
		if c.Expect.MaxLatency > 0 {
			reason = fmt.Sprintf("expected a response within %s, none came in %s", c.Expect.MaxLatency, timeout)
		}
		return &AttemptFailure{Reason: reason, Retryable: true}
	}
	return &AttemptFailure{Reason: unwrapURLError(err).Error(), Retryable: true}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// unwrapURLError drops *url.Error's `Get "https://…":` prefix; the check
// already names the URL.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
