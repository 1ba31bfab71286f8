// Command benchtable prints the table of `make bench`: it reads the output of
// internal/ecsdeploy's benchmarks and the samples .ci/bench.sh measured, and
// writes markdown with medians and ratios to stdout.
//
//	benchtable -gobench follow.txt -samples samples.txt -machine "..." [-note "..."]...
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/graviton-cd/graviton-cd/internal/bench"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
}

// notes collects a repeated -note flag.
type notes []string

func (n *notes) String() string     { return strings.Join(*n, "; ") }
func (n *notes) Set(v string) error { *n = append(*n, v); return nil }

func run(args []string) error {
	fs := flag.NewFlagSet("benchtable", flag.ContinueOnError)
	gobenchFile := fs.String("gobench", "", "output of go test -bench ./internal/ecsdeploy/")
	samplesFile := fs.String("samples", "", `"name value" lines written by .ci/bench.sh`)
	machine := fs.String("machine", "", "one line describing the machine")
	var ns notes
	fs.Var(&ns, "note", "a note under the table (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	rep := bench.Report{Machine: *machine, Notes: ns, Follow: bench.GoBench{}, Samples: bench.Samples{}}
	if *gobenchFile != "" {
		f, err := os.Open(*gobenchFile)
		if err != nil {
			return fmt.Errorf("open benchmark output: %w", err)
		}
		defer f.Close()
		if rep.Follow, err = bench.ParseGoBench(f); err != nil {
			return err
		}
	}
	if *samplesFile != "" {
		f, err := os.Open(*samplesFile)
		if err != nil {
			return fmt.Errorf("open samples: %w", err)
		}
		defer f.Close()
		if rep.Samples, err = bench.ReadSamples(f); err != nil {
			return err
		}
	}
	return rep.WriteMarkdown(os.Stdout)
}
