package cli

import (
	"go/scanner"
	"go/token"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

const troubleshootingDoc = "../../docs/troubleshooting.md"

// troubleRow is one row of a table in docs/troubleshooting.md: the messages
// quoted in its first column and, when its second column is a command line,
// that command.
type troubleRow struct {
	line     int
	messages []string
	command  string
}

var backticked = regexp.MustCompile("`([^`]+)`")

func troubleRows(t *testing.T) []troubleRow {
	t.Helper()
	b, err := os.ReadFile(troubleshootingDoc)
	if err != nil {
		t.Fatal(err)
	}
	var rows []troubleRow
	for i, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), " | ")
		if len(cells) < 3 {
			t.Fatalf("%s:%d: want | message | when | what to do |", troubleshootingDoc, i+1)
		}
		r := troubleRow{line: i + 1}
		for _, m := range backticked.FindAllStringSubmatch(cells[0], -1) {
			r.messages = append(r.messages, m[1])
		}
		if m := backticked.FindStringSubmatch(strings.TrimSpace(cells[1])); m != nil && strings.Contains(m[1], "graviton-cd ") {
			r.command = m[1]
		}
		rows = append(rows, r)
	}
	return rows
}

// TestTroubleshootingMessagesComeFromTheBinary: each command in the table is
// run, and the first line of its error is the message the table quotes
// ("…" stands for any text). A message that needs AWS to happen is checked
// against the string literals of the Go sources instead: each piece of it
// between "…" must be made of the sources' text.
func TestTroubleshootingMessagesComeFromTheBinary(t *testing.T) {
	rows := troubleRows(t)
	if len(rows) < 20 {
		t.Fatalf("%d rows in %s", len(rows), troubleshootingDoc)
	}
	chunks := sourceChunks(t)
	for _, r := range rows {
		name := strconv.Itoa(r.line) + " " + r.messages[0]
		if len(name) > 60 {
			name = name[:60]
		}
		t.Run(name, func(t *testing.T) {
			if r.command == "" {
				for _, m := range r.messages {
					for _, piece := range strings.Split(m, "…") {
						if bad := uncovered(piece, chunks); bad != "" {
							t.Errorf("%s:%d: %q is not in the sources (no string literal holds %q)", troubleshootingDoc, r.line, piece, bad)
						}
					}
				}
				return
			}
			first := runDocumented(t, r.command)
			if len(r.messages) != 1 {
				t.Fatalf("a row with a command quotes one message")
			}
			if !messagePattern(r.messages[0]).MatchString(first) {
				t.Errorf("%s:%d: %s prints\n  %s\nnot\n  %s", troubleshootingDoc, r.line, r.command, first, r.messages[0])
			}
		})
	}
}

// messagePattern matches a documented message; "…" is any text.
func messagePattern(msg string) *regexp.Regexp {
	parts := strings.Split(msg, "…")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	tail := "$"
	if strings.HasSuffix(msg, "…") {
		tail = ""
	}
	return regexp.MustCompile("^" + strings.Join(parts, ".*?") + tail)
}

// runDocumented runs "VAR=value … graviton-cd args" in-process, with test
// credentials and region, AWS pointed at a server that counts calls, and an
// empty working directory; it returns the error line without its prefix.
func runDocumented(t *testing.T, command string) string {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Error(w, "no AWS call expected", http.StatusTeapot)
	}))
	defer srv.Close()
	isolateAWS(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_ENDPOINT_URL", srv.URL)
	t.Chdir(t.TempDir())
	words := shellWords(command)
	for len(words) > 0 && strings.Contains(words[0], "=") {
		k, v, _ := strings.Cut(words[0], "=")
		t.Setenv(k, v)
		words = words[1:]
	}
	if len(words) == 0 || words[0] != "graviton-cd" {
		t.Fatalf("%q does not run graviton-cd", command)
	}
	code, _, stderr := run(t, words[1:]...)
	if code == ExitOK {
		t.Fatalf("%s succeeded", command)
	}
	if code == ExitUsage && calls.Load() != 0 {
		t.Errorf("%s: %d AWS calls on bad input", command, calls.Load())
	}
	for _, line := range strings.Split(stderr, "\n") {
		if m, ok := strings.CutPrefix(line, "graviton-cd: error: "); ok {
			return m
		}
	}
	t.Fatalf("%s printed no error:\n%s", command, stderr)
	return ""
}

// shellWords splits a command line at spaces, keeping "double quoted" words.
func shellWords(s string) []string {
	var words []string
	var cur strings.Builder
	inQuote, started := false, false
	for _, r := range s {
		switch {
		case r == '"':
			inQuote, started = !inQuote, true
		case r == ' ' && !inQuote:
			if started {
				words = append(words, cur.String())
				cur.Reset()
				started = false
			}
		default:
			cur.WriteRune(r)
			started = true
		}
	}
	if started {
		words = append(words, cur.String())
	}
	return words
}

var formatVerb = regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z]`)

// sourceChunks are the string literals of the non-test Go sources under
// internal/, cut at their format verbs.
func sourceChunks(t *testing.T) map[string]bool {
	t.Helper()
	chunks := map[string]bool{}
	err := filepath.WalkDir("..", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		fset := token.NewFileSet()
		var s scanner.Scanner
		s.Init(fset.AddFile(path, -1, len(src)), src, nil, 0)
		for {
			_, tok, lit := s.Scan()
			if tok == token.EOF {
				break
			}
			if tok != token.STRING {
				continue
			}
			v, err := strconv.Unquote(lit)
			if err != nil {
				continue
			}
			for _, c := range formatVerb.Split(strings.ReplaceAll(v, "%%", "%"), -1) {
				chunks[c] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return chunks
}

// flagPrefix is how a usage error starts: "--name: ".
var flagPrefix = regexp.MustCompile(`^--[a-z-]+: `)

// uncovered returns "" when piece is the sources' text: after a usage
// error's "--flag: ", part of one string literal; or else up to three whole
// literals one after the other (as "doctor found problems: " + "permissions"
// + ": " are put together). Otherwise it returns the first part no literal starts.
func uncovered(piece string, chunks map[string]bool) string {
	rest := flagPrefix.ReplaceAllString(piece, "")
	if rest == "" {
		return ""
	}
	for c := range chunks {
		if strings.Contains(c, rest) {
			return ""
		}
	}
	for segments := 0; len(piece) > 0; segments++ {
		n := len(piece)
		for ; n > 1 && !chunks[piece[:n]]; n-- {
		}
		if n <= 1 || segments == 3 {
			return piece
		}
		piece = piece[n:]
	}
	return ""
}
