// Package cwlogsfake is an in-process CloudWatch Logs endpoint for tests: an
// httptest server that speaks the Logs JSON 1.1 protocol (X-Amz-Target
// Logs_20140328.*, application/x-amz-json-1.1, __type errors) well enough for
// the real aws-sdk-go-v2 client. It answers FilterLogEvents, with pages of
// PageSize events and nextToken, logStreamNamePrefix, startTime, endTime and
// filter patterns made of plain terms and quoted phrases (all must appear).
package cwlogsfake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	targetPrefix = "Logs_20140328."
	contentType  = "application/x-amz-json-1.1"
)

// Server is a CloudWatch Logs endpoint. Use URL as the client's BaseEndpoint,
// or mount it (it is an http.Handler) behind a router that also serves ECS.
type Server struct {
	URL string
	// PageSize is how many events one FilterLogEvents answer holds at most
	// (the real API: up to 10,000 or 1 MB); zero means 3, so tests page.
	PageSize int

	mu       sync.Mutex
	failures []failure // answered instead of the next calls, in order
	groups   map[string][]event
	requests []map[string]any
	nextID   int
}

type failure struct {
	status int
	typ    string
}

// FailNext makes the next n FilterLogEvents calls fail with an HTTP status
// and an error __type, such as 400 ThrottlingException or 500 ServiceUnavailableException.
func (s *Server) FailNext(n, status int, typ string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failures = append(s.failures, failure{status, typ})
	}
}

type event struct {
	id, stream, msg string
	ts, ingested    int64
}

// New starts a Server on 127.0.0.1 with the given log groups, and closes it
// when the test ends.
func New(t testing.TB, groups ...string) *Server {
	t.Helper()
	s := NewHandler(groups...)
	srv := httptest.NewServer(s)
	s.URL = srv.URL
	t.Cleanup(srv.Close)
	return s
}

// NewHandler returns a Server that is not listening: serve it yourself.
func NewHandler(groups ...string) *Server {
	s := &Server{groups: map[string][]event{}}
	for _, g := range groups {
		s.groups[g] = nil
	}
	return s
}

// Put adds an event to a stream of a group (created if need be) and returns
// its event ID.
func (s *Server) Put(group, stream string, at time.Time, msg string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	id := fmt.Sprintf("%056d", s.nextID)
	s.groups[group] = append(s.groups[group], event{id: id, stream: stream, msg: msg, ts: at.UnixMilli(), ingested: at.UnixMilli()})
	return id
}

// Requests returns the FilterLogEvents requests, as decoded JSON.
func (s *Server) Requests() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// ServeHTTP answers one Logs API call.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	if r.Method != http.MethodPost || !strings.HasPrefix(target, targetPrefix) {
		writeError(w, 400, "UnknownOperationException", "expected POST with X-Amz-Target "+targetPrefix+"*, got "+r.Method+" "+target)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != contentType {
		writeError(w, 400, "SerializationException", "Content-Type "+ct+" is not "+contentType)
		return
	}
	if !strings.Contains(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256") {
		writeError(w, 400, "MissingAuthenticationTokenException", "request is not signed")
		return
	}
	var in map[string]any
	body, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(body, &in); err != nil {
		writeError(w, 400, "SerializationException", err.Error())
		return
	}
	op := strings.TrimPrefix(target, targetPrefix)
	if op != "FilterLogEvents" {
		writeError(w, 400, "UnknownOperationException", "cwlogsfake does not implement "+op)
		return
	}
	s.mu.Lock()
	var fail *failure
	if len(s.failures) > 0 {
		fail = &s.failures[0]
		s.failures = s.failures[1:]
	}
	s.mu.Unlock()
	if fail != nil {
		writeError(w, fail.status, fail.typ, "scripted failure")
		return
	}
	out, typ, msg := s.filterLogEvents(in)
	if typ != "" {
		writeError(w, 400, typ, msg)
		return
	}
	w.Header().Set("Content-Type", contentType)
	_ = json.NewEncoder(w).Encode(out)
}

func writeError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": typ, "message": msg})
}

func (s *Server) filterLogEvents(in map[string]any) (any, string, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, in)
	group, _ := in["logGroupName"].(string)
	events, ok := s.groups[group]
	if !ok {
		return nil, "ResourceNotFoundException", "The specified log group does not exist."
	}
	if _, both := in["logStreamNames"]; both && in["logStreamNamePrefix"] != nil {
		return nil, "InvalidParameterException", "logStreamNames and logStreamNamePrefix are mutually exclusive"
	}
	prefix, _ := in["logStreamNamePrefix"].(string)
	pattern, _ := in["filterPattern"].(string)
	terms := patternTerms(pattern)
	start, hasStart := in["startTime"].(float64)
	end, hasEnd := in["endTime"].(float64)
	var match []event
	for _, e := range events {
		switch {
		case prefix != "" && !strings.HasPrefix(e.stream, prefix):
		case hasStart && e.ts < int64(start):
		case hasEnd && e.ts > int64(end):
		case !containsAll(e.msg, terms):
		default:
			match = append(match, e)
		}
	}
	sort.SliceStable(match, func(i, j int) bool { return match[i].ts < match[j].ts })
	from := 0
	if tok, _ := in["nextToken"].(string); tok != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(tok, "page/"))
		if err != nil || n > len(match) {
			return nil, "InvalidParameterException", "The specified nextToken is invalid."
		}
		from = n
	}
	size := s.PageSize
	if size <= 0 {
		size = 3
	}
	if l, ok := in["limit"].(float64); ok && int(l) < size {
		size = int(l)
	}
	to := min(from+size, len(match))
	out := map[string]any{"searchedLogStreams": []any{}}
	var evs []map[string]any
	for _, e := range match[from:to] {
		evs = append(evs, map[string]any{"eventId": e.id, "logStreamName": e.stream, "timestamp": e.ts, "ingestionTime": e.ingested, "message": e.msg})
	}
	if evs == nil {
		evs = []map[string]any{}
	}
	out["events"] = evs
	if to < len(match) {
		out["nextToken"] = "page/" + strconv.Itoa(to)
	}
	return out, "", ""
}

// patternTerms splits a filter pattern into its terms: words, and phrases
// in double quotes.
func patternTerms(p string) []string {
	var terms []string
	for i, part := range strings.Split(p, `"`) {
		if i%2 == 1 {
			if part != "" {
				terms = append(terms, part)
			}
			continue
		}
		terms = append(terms, strings.Fields(part)...)
	}
	return terms
}

func containsAll(msg string, terms []string) bool {
	for _, t := range terms {
		if !strings.Contains(msg, t) {
			return false
		}
	}
	return true
}
