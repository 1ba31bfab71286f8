package smoketest

import (
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/graviton-cd/graviton-cd/internal/atomicfile"
	"github.com/graviton-cd/graviton-cd/internal/progress"
)

// JUnit XML as CircleCI's store_test_results reads it: testsuites >
// testsuite > testcase, with time in seconds and a failure element per failed
// check.

// JUnitTestSuites is the root element of the JUnit report.
type JUnitTestSuites struct {
	XMLName  xml.Name         `xml:"testsuites"`
	Name     string           `xml:"name,attr"`
	Tests    int              `xml:"tests,attr"`
	Failures int              `xml:"failures,attr"`
	Time     string           `xml:"time,attr"`
	Suites   []JUnitTestSuite `xml:"testsuite"`
}

// JUnitTestSuite holds one testcase per check.
type JUnitTestSuite struct {
	Name      string          `xml:"name,attr"`
	Tests     int             `xml:"tests,attr"`
	Failures  int             `xml:"failures,attr"`
	Errors    int             `xml:"errors,attr"`
	Skipped   int             `xml:"skipped,attr"`
	Time      string          `xml:"time,attr"`
	Timestamp string          `xml:"timestamp,attr"`
	Cases     []JUnitTestCase `xml:"testcase"`
}

// JUnitTestCase is one check.
type JUnitTestCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *JUnitFailure `xml:"failure,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

// JUnitFailure says why a check failed.
type JUnitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// junitSuiteName is the suite and class name CircleCI groups the checks by.
const junitSuiteName = "graviton-cd smoke-test"

// JUnit converts the report to JUnit XML structures.
func (r *Report) JUnit() JUnitTestSuites {
	suite := JUnitTestSuite{
		Name:      junitSuiteName,
		Tests:     len(r.Checks),
		Time:      junitSeconds(r.Duration),
		Timestamp: r.Started.UTC().Format("2006-01-02T15:04:05"),
	}
	for _, c := range r.Checks {
		tc := JUnitTestCase{
			Name:      c.Name,
			ClassName: junitSuiteName,
			Time:      junitSeconds(c.Duration),
			SystemOut: fmt.Sprintf("%s %s: %s, %d of %d passes in a row", c.Method, c.URL, progress.Plural(c.Attempts, "attempt", "attempts"), c.PassesInARow, c.PassesRequired),
		}
		if !c.Passed {
			suite.Failures++
			tc.Failure = &JUnitFailure{Message: c.Failure, Type: "SmokeTestFailed", Text: c.Failure}
		}
		suite.Cases = append(suite.Cases, tc)
	}
	return JUnitTestSuites{
		Name:     junitSuiteName,
		Tests:    suite.Tests,
		Failures: suite.Failures,
		Time:     suite.Time,
		Suites:   []JUnitTestSuite{suite},
	}
}

func junitSeconds(d time.Duration) string {
	return fmt.Sprintf("%.3f", d.Seconds())
}

// WriteJUnit writes the report as JUnit XML to path, creating its directory.
// The file is replaced atomically, so a cancelled job never leaves half a
// report for store_test_results.
func WriteJUnit(path string, r *Report) error {
	return WriteJUnitMasked(path, r, nil)
}

// WriteJUnitMasked is WriteJUnit with mask applied to the XML before it is
// written, so that a secret the app echoed into a body excerpt never reaches a
// file CircleCI stores. A nil mask writes the report as it is.
func WriteJUnitMasked(path string, r *Report, mask func(string) string) error {
	body, err := xml.MarshalIndent(r.JUnit(), "", "  ")
	if err != nil {
		return fmt.Errorf("encode JUnit report: %w", err)
	}
	if mask != nil {
		body = []byte(mask(string(body)))
	}
	data := append([]byte(xml.Header), body...)
	data = append(data, '\n')
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write JUnit report: %w", err)
	}
	if err := atomicfile.Write(path, data, 0o644); err != nil {
		return fmt.Errorf("write JUnit report: %w", err)
	}
	return nil
}
