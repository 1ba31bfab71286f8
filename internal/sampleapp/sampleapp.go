// Package sampleapp is the small HTTP app the demo deploys: "/" greets with
// its version, "/version" answers {"version": …, "arch": …} for smoke tests.
// The demo also serves it on 127.0.0.1 in place of the containers the local
// AWS emulator cannot run.
package sampleapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"runtime"
	"time"
)

// VersionInfo is the body of /version.
type VersionInfo struct {
	Version string `json:"version"`
	Arch    string `json:"arch"`
}

// NewHandler returns the app's routes, reporting version.
func NewHandler(version string) http.Handler {
	info := VersionInfo{Version: version, Arch: runtime.GOARCH}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!doctype html>\n<title>graviton-cd sample app</title>\n<h1>Hello from the graviton-cd sample app</h1>\n<p>version %s on %s</p>\n",
			html.EscapeString(info.Version), html.EscapeString(info.Arch))
	})
	mux.HandleFunc("GET /version", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store") // a smoke test must see the live version
		json.NewEncoder(w).Encode(info)
	})
	return mux
}

// Serve answers on ln with h until ctx is cancelled, then shuts down
// gracefully, letting requests in flight finish within grace.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, grace time.Duration) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shut down %s: %w", ln.Addr(), err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	}
	return nil
}

// ListenAndServe listens on addr, prints the address it listens on to out
// (so a script can wait for that line), and serves until ctx is cancelled.
func ListenAndServe(ctx context.Context, addr, version string, out io.Writer) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w: pick a free port with --addr", addr, err)
	}
	fmt.Fprintf(out, "sampleapp %s (%s) listening on http://%s\n", version, runtime.GOARCH, ln.Addr())
	if err := Serve(ctx, ln, NewHandler(version), 10*time.Second); err != nil {
		return err
	}
	fmt.Fprintf(out, "sampleapp %s stopped\n", version)
	return nil
}
