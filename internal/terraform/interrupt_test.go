package terraform

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/graviton-cd/graviton-cd/internal/progress"
)

// The test binary doubles as a fake terraform: with envFake set it behaves
// as the CLI does on an interrupt, records what happened in $dir/events and
// exits. This is how the interrupt sequence is tested without a provider.
const (
	envFake       = "GRAVITON_CD_FAKE_TERRAFORM" // finishes-in-flight, exits-at-once or deaf
	envFakeEvents = "GRAVITON_CD_FAKE_EVENTS"    // file the fake appends its events to
	envFakeOps    = "GRAVITON_CD_FAKE_OPS"       // resources apply creates, one at a time
	envFakeOpTime = "GRAVITON_CD_FAKE_OP_TIME"   // how long one create takes
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(envFake); mode != "" {
		os.Exit(fakeTerraform(mode, os.Args[1:]))
	}
	os.Exit(m.Run())
}

// fakeTerraform plays terraform for terraform-exec. apply creates
// $GRAVITON_CD_FAKE_OPS resources one after another, each taking
// $GRAVITON_CD_FAKE_OP_TIME. On SIGINT (what terraform-exec sends when its
// context is cancelled):
//   - finishes-in-flight completes the create in flight, records it, and
//     exits 1: a CLI whose provider lets in-flight calls complete;
//   - exits-at-once exits 1 at once and the create in flight is lost. This is
//     what Terraform 1.11 and OpenTofu 1.12 both do with the AWS provider:
//     on SIGINT both send StopProvider, the provider cancels the context of
//     its calls in flight, and the CLI exits as soon as they return (measured
//     with a local-exec provisioner: both exit 0.1 s after SIGINT; issue 18
//     saw provision stop "0s after the interrupt" with OpenTofu and 6.47.1);
//   - deaf ignores it and is killed.
func fakeTerraform(mode string, args []string) int {
	start := time.Now()
	events, err := os.OpenFile(os.Getenv(envFakeEvents), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	record := func(format string, a ...any) {
		fmt.Fprintf(events, "%d %s\n", time.Now().UnixNano(), fmt.Sprintf(format, a...))
	}
	if len(args) == 0 {
		return 3
	}
	switch args[0] {
	case "version":
		fmt.Println(`{"terraform_version":"1.11.4","platform":"linux_amd64","provider_selections":{},"terraform_outdated":false}`)
		return 0
	case "plan", "apply", "destroy":
	default:
		return 0
	}
	record("start %s", args[0])
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt)
	ops, _ := strconv.Atoi(os.Getenv(envFakeOps))
	opTime, _ := time.ParseDuration(os.Getenv(envFakeOpTime))
	if args[0] == "plan" {
		ops, opTime = 1, time.Minute
	}
	for i := 1; i <= ops; i++ {
		record("creating %d", i)
		done := time.After(opTime)
	wait:
		select {
		case <-done:
		case <-sigs:
			record("interrupt after %s", time.Since(start))
			switch mode {
			case "deaf":
				goto wait
			case "exits-at-once":
				record("exit 1, resource %d lost", i)
				return 1
			}
			<-done
			record("created %d", i)
			record("exit 1")
			return 1
		}
		record("created %d", i)
	}
	record("exit 0")
	return 0
}

// lockedBuffer is a log that goroutines write while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type fakeEvent struct {
	at   time.Time
	what string
}

func readEvents(t *testing.T, path string) []fakeEvent {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var evs []fakeEvent
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		ns, what, _ := strings.Cut(sc.Text(), " ")
		n, err := strconv.ParseInt(ns, 10, 64)
		if err != nil {
			t.Fatalf("bad event %q", sc.Text())
		}
		evs = append(evs, fakeEvent{time.Unix(0, n), what})
	}
	return evs
}

// firstEvent returns the first event starting with prefix.
func firstEvent(evs []fakeEvent, prefix string) (fakeEvent, bool) {
	for _, e := range evs {
		if strings.HasPrefix(e.what, prefix) {
			return e, true
		}
	}
	return fakeEvent{}, false
}

func TestInterruptLetsInFlightOperationsFinish(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	const (
		finish    = 1500 * time.Millisecond // FinishInFlight, shortened
		exit      = 1500 * time.Millisecond // GracefulStop-FinishInFlight, shortened
		cancelAt  = 200 * time.Millisecond  // the interrupt, after the first create starts
		tolerance = 700 * time.Millisecond
	)
	cases := []struct {
		name, mode   string
		ops          int
		opTime       time.Duration
		wantErr      bool
		wantSignal   bool          // terraform gets an interrupt at all
		wantKilled   bool          // it had to be killed
		wantCreated  int           // resources recorded as created; -1: any
		wantStopped  time.Duration // from the interrupt to Apply's return, at most
		wantNotEarly time.Duration // from the interrupt to Apply's return, at least
	}{
		// The create in flight when the job is cancelled finishes and is
		// recorded; the apply ends on its own and no signal is sent.
		{name: "exits at once, apply ends within the grace", mode: "exits-at-once", ops: 1, opTime: time.Second,
			wantCreated: 1, wantStopped: time.Second},
		{name: "finishes in flight, apply ends within the grace", mode: "finishes-in-flight", ops: 1, opTime: time.Second,
			wantCreated: 1, wantStopped: time.Second},
		// A longer apply is interrupted after the grace: exits-at-once drops the
		// create then in flight (the import on the next run recovers it);
		// the one in flight at the cancel was recorded.
		{name: "exits at once, long apply", mode: "exits-at-once", ops: 20, opTime: 600 * time.Millisecond,
			wantErr: true, wantSignal: true, wantCreated: 2, wantStopped: finish, wantNotEarly: finish},
		{name: "finishes in flight, long apply", mode: "finishes-in-flight", ops: 20, opTime: 600 * time.Millisecond,
			wantErr: true, wantSignal: true, wantCreated: 3, wantStopped: finish + 600*time.Millisecond, wantNotEarly: finish},
		// A terraform that ignores the interrupt is killed after both phases.
		{name: "deaf, killed", mode: "deaf", ops: 100, opTime: 600 * time.Millisecond,
			wantErr: true, wantSignal: true, wantKilled: true, wantCreated: -1, wantStopped: finish + exit, wantNotEarly: finish + exit},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			events := filepath.Join(dir, "events")
			t.Setenv(envFake, tc.mode)
			t.Setenv("GORACE", "atexit_sleep_ms=0") // a -race fake would linger a second at exit
			t.Setenv(envFakeEvents, events)
			t.Setenv(envFakeOps, strconv.Itoa(tc.ops))
			t.Setenv(envFakeOpTime, tc.opTime.String())
			log := &lockedBuffer{}
			e, err := NewExec(dir, self, progress.New(log, nil, false))
			if err != nil {
				t.Fatal(err)
			}
			if err := e.setStopTimes(stopTimes{finish: finish, exit: exit}); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			// The interrupt comes while the first resource is being created.
			cancelled := make(chan time.Time, 1)
			go func() {
				for {
					if b, _ := os.ReadFile(events); strings.Contains(string(b), "creating 1") {
						break
					}
					time.Sleep(10 * time.Millisecond)
				}
				time.Sleep(cancelAt)
				cancelled <- time.Now()
				cancel()
			}()
			err = e.Apply(ctx, "tfplan")
			returned := time.Now()
			cancelledAt := <-cancelled
			var ie *InterruptedError
			switch {
			case tc.wantErr && !errors.As(err, &ie):
				t.Errorf("apply = %v, want *InterruptedError", err)
			case !tc.wantErr && err != nil:
				t.Errorf("apply = %v, want nil: it ended on its own", err)
			}
			evs := readEvents(t, events)
			for _, ev := range evs {
				t.Logf("fake: %s %s", ev.at.Sub(cancelledAt).Round(10*time.Millisecond), ev.what)
			}
			created := 0
			for _, ev := range evs {
				if strings.HasPrefix(ev.what, "created ") {
					created++
				}
			}
			if tc.wantCreated >= 0 && created != tc.wantCreated {
				t.Errorf("%d resources recorded, want %d; events %v", created, tc.wantCreated, evs)
			}
			sig, signalled := firstEvent(evs, "interrupt")
			if signalled != tc.wantSignal {
				t.Errorf("terraform interrupted: %v, want %v; events %v", signalled, tc.wantSignal, evs)
			}
			if signalled {
				if d := sig.at.Sub(cancelledAt); d < finish || d > finish+tolerance {
					t.Errorf("interrupt sent %s after the cancel, want %s", d, finish)
				}
				t.Logf("interrupt sent %s after the cancel", sig.at.Sub(cancelledAt).Round(10*time.Millisecond))
			}
			_, exited := firstEvent(evs, "exit")
			if exited == tc.wantKilled {
				t.Errorf("fake exited on its own: %v, want killed: %v; events %v", exited, tc.wantKilled, evs)
			}
			d := returned.Sub(cancelledAt)
			t.Logf("apply returned %s after the cancel", d.Round(10*time.Millisecond))
			if d > tc.wantStopped+tolerance || d < tc.wantNotEarly {
				t.Errorf("apply returned %s after the cancel, want between %s and %s", d, tc.wantNotEarly, tc.wantStopped+tolerance)
			}
			if tc.wantSignal && !strings.Contains(log.String(), "interrupting terraform apply") {
				t.Errorf("log does not say terraform was interrupted:\n%s", log.String())
			}
		})
	}
}

// TestInterruptStopsPlanAtOnce: a plan changes nothing, so it is interrupted
// at once.
func TestInterruptStopsPlanAtOnce(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	events := filepath.Join(dir, "events")
	t.Setenv(envFake, "exits-at-once")
	t.Setenv(envFakeEvents, events)
	e, err := NewExec(dir, self, progress.Discard())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err = e.Plan(ctx, "tfplan")
	var ie *InterruptedError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "--timeout was reached") {
		t.Fatalf("plan = %v, want *InterruptedError for the timeout", err)
	}
	evs := readEvents(t, events)
	start, _ := firstEvent(evs, "start")
	sig, ok := firstEvent(evs, "interrupt")
	if !ok {
		t.Fatalf("plan was not interrupted: %v", evs)
	}
	if d := sig.at.Sub(start.at); d > time.Second {
		t.Errorf("plan interrupted %s after it started, want at once after 300ms", d)
	}
}

// TestApplyAfterCancelStartsNothing: an apply asked for after the cancel
// does not start terraform.
func TestApplyAfterCancelStartsNothing(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	t.Setenv(envFake, "finishes-in-flight")
	t.Setenv(envFakeEvents, filepath.Join(dir, "events"))
	e, err := NewExec(dir, self, progress.Discard())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var ie *InterruptedError
	if err := e.Apply(ctx, "tfplan"); !errors.As(err, &ie) {
		t.Errorf("apply = %v, want *InterruptedError", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "events")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("terraform was started after the cancel")
	}
}
