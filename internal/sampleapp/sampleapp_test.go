package sampleapp

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRoutes(t *testing.T) {
	srv := httptest.NewServer(NewHandler("v2<b>"))
	defer srv.Close()

	tests := []struct {
		name        string
		method      string
		path        string
		status      int
		contentType string
		body        string
	}{
		{"hello names the version, escaped", "GET", "/", 200, "text/html", "version v2&lt;b&gt; on " + runtime.GOARCH},
		{"version is JSON", "GET", "/version", 200, "application/json", `"arch":"` + runtime.GOARCH + `"}`},
		{"HEAD works", "HEAD", "/version", 200, "application/json", ""},
		{"unknown path", "GET", "/nope", 404, "text/plain", "404 page not found"},
		{"POST is refused", "POST", "/version", 405, "text/plain", "Method Not Allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, srv.URL+tt.path, nil)
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.status)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, tt.contentType) {
				t.Errorf("Content-Type = %q, want %s", ct, tt.contentType)
			}
			if !strings.Contains(string(body), tt.body) {
				t.Errorf("body %q should contain %q", body, tt.body)
			}
		})
	}

	t.Run("version decodes", func(t *testing.T) {
		resp, err := srv.Client().Get(srv.URL + "/version")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var info VersionInfo
		if err := json.NewDecoder(resp.Body).Decode(&info); err != nil {
			t.Fatal(err)
		}
		if info != (VersionInfo{Version: "v2<b>", Arch: runtime.GOARCH}) {
			t.Errorf("info = %+v", info)
		}
	})
}

func TestServeShutsDownGracefully(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	inFlight := make(chan struct{})
	release := make(chan struct{})
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(inFlight)
		<-release
		io.WriteString(w, "finished")
	})
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, ln, slow, 5*time.Second) }()

	answer := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/")
		if err != nil {
			answer <- "error: " + err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		answer <- string(b)
	}()
	<-inFlight
	cancel() // SIGTERM arrives while a request is in flight
	time.Sleep(20 * time.Millisecond)
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Errorf("after shutdown starts, new connections are refused")
	}
	close(release)
	if got := <-answer; got != "finished" {
		t.Errorf("the request in flight should finish, got %q", got)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve = %v, want nil after a graceful shutdown", err)
	}
}

func TestListenAndServeReportsAddress(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var out syncWriter
	done := make(chan error, 1)
	go func() { done <- ListenAndServe(ctx, "127.0.0.1:0", "v9", &out) }()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), "listening on http://127.0.0.1:") {
		if time.Now().After(deadline) {
			t.Fatalf("no listening line: %q", out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "sampleapp v9 stopped") {
		t.Errorf("output %q", out.String())
	}

	if err := ListenAndServe(context.Background(), "127.0.0.1:99999", "v9", io.Discard); err == nil || !strings.Contains(err.Error(), "--addr") {
		t.Errorf("a bad address should fail and mention --addr: %v", err)
	}
}

// syncWriter is a buffer safe to write from the server goroutine and read
// from the test.
type syncWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}
