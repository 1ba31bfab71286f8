package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestIdleAndHeartbeatDue(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	var buf bytes.Buffer
	l := New(&buf, clock, false)
	if l.Idle() != 0 || l.HeartbeatDue() != HeartbeatEvery {
		t.Fatalf("fresh logger: idle %s, due %s", l.Idle(), l.HeartbeatDue())
	}
	now = now.Add(45 * time.Second)
	if l.Idle() != 45*time.Second || l.HeartbeatDue() != 15*time.Second {
		t.Errorf("after 45s: idle %s, due %s", l.Idle(), l.HeartbeatDue())
	}
	l.Debugf("not printed, so not a line")
	if l.Idle() != 45*time.Second {
		t.Errorf("a suppressed debug line reset the idle time")
	}
	l.Printf("something changed")
	if l.Idle() != 0 {
		t.Errorf("a line did not reset the idle time: %s", l.Idle())
	}
	if !strings.HasPrefix(buf.String(), "2026-03-01T12:00:45Z something changed") {
		t.Errorf("line = %q", buf.String())
	}
	var nilLog *Logger
	if nilLog.Idle() != 0 {
		t.Error("a nil logger is idle")
	}
}

func TestPlural(t *testing.T) {
	for _, tt := range []struct {
		n    int
		want string
	}{{0, "0 attempts"}, {1, "1 attempt"}, {2, "2 attempts"}} {
		if got := Plural(tt.n, "attempt", "attempts"); got != tt.want {
			t.Errorf("Plural(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestDuration(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{250 * time.Second, "4m10s"},
		{15 * time.Minute, "15m"},
		{time.Hour, "1h"},
		{90 * time.Minute, "1h30m"},
		{2500 * time.Millisecond, "2.5s"},
		{300 * time.Millisecond, "300ms"},
		{4*time.Minute + 10*time.Second + 400*time.Millisecond, "4m10s"},
	} {
		if got := Duration(tt.d); got != tt.want {
			t.Errorf("Duration(%s) = %q, want %q", tt.d, got, tt.want)
		}
	}
}
