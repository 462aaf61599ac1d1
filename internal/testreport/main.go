// Command testreport reads the output of go test -json on its standard input,
// prints what plain go test would (each package's result line, and the output
// of failing tests), and appends each skipped test with its reason to the file
// named by -skips. With -list it prints that file as a closing summary instead.
// make test uses it so that a run ends by saying what it did not test.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// event is one line of go test -json (cmd/test2json).
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

func main() {
	skips := flag.String("skips", "", "file to append skipped tests to")
	list := flag.String("list", "", "print the skipped tests recorded in this file, and exit")
	flag.Parse()
	if *list != "" {
		if err := printList(os.Stdout, *list); err != nil {
			fmt.Fprintln(os.Stderr, "testreport:", err)
			os.Exit(1)
		}
		return
	}
	if *skips == "" {
		fmt.Fprintln(os.Stderr, "usage: go test -json ./... | testreport -skips FILE; testreport -list FILE")
		os.Exit(2)
	}
	f, err := os.OpenFile(*skips, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testreport:", err)
		os.Exit(1)
	}
	defer f.Close()
	if err := report(os.Stdin, os.Stdout, f); err != nil {
		fmt.Fprintln(os.Stderr, "testreport:", err)
		os.Exit(1)
	}
}

// report copies the run's output to out as go test without -v would print it
// and writes one line per skipped test to skips: "package Test: reason".
func report(in io.Reader, out, skips io.Writer) error {
	outputs := map[string][]string{} // a running test's output, by package and name
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			// Not an event (go vet or the toolchain wrote to stdout): pass it on.
			fmt.Fprintln(out, sc.Text())
			continue
		}
		key := e.Package + " " + e.Test
		switch {
		case e.Action == "build-output":
			fmt.Fprint(out, e.Output)
		case e.Test == "" && e.Action == "output":
			if !strings.HasPrefix(e.Output, "PASS") && !strings.HasPrefix(e.Output, "=== ") {
				fmt.Fprint(out, e.Output)
			}
		case e.Action == "output":
			outputs[key] = append(outputs[key], e.Output)
		case e.Action == "fail":
			fmt.Fprint(out, strings.Join(outputs[key], ""))
			delete(outputs, key)
		case e.Action == "skip" && e.Test == "":
			// A package without tests: go test has printed its "?" line.
		case e.Action == "skip":
			fmt.Fprintf(skips, "%s %s: %s\n", e.Package, e.Test, reason(outputs[key]))
			delete(outputs, key)
		case e.Action == "pass":
			delete(outputs, key)
		}
	}
	return sc.Err()
}

// reason is what a skipped test logged, on one line, without go test's own
// "=== RUN" and "--- SKIP" lines.
func reason(lines []string) string {
	var parts []string
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "=== ") || strings.HasPrefix(l, "--- SKIP") {
			continue
		}
		parts = append(parts, l)
	}
	if len(parts) == 0 {
		return "(no reason given)"
	}
	return strings.Join(parts, " ")
}

// printList prints the skipped tests recorded in path, or that there were none.
func printList(out io.Writer, path string) error {
	data, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(data) == 0 || lines[0] == "" {
		fmt.Fprintln(out, "No test was skipped.")
		return nil
	}
	fmt.Fprintf(out, "Skipped %d tests (not run, so not known to pass):\n", len(lines))
	for _, l := range lines {
		fmt.Fprintln(out, "  "+l)
	}
	return nil
}
