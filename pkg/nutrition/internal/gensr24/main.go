package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// run parses the flags, reads the jar and writes the data files; it reports
// what it did, and the foods it skipped, on log.
func run(args []string, log io.Writer) error {
	fs := flag.NewFlagSet("gensr24", flag.ContinueOnError)
	fs.SetOutput(log)
	jar := fs.String("jar", "", "path to usda_sr24.jar (Debian package cronometer: /usr/share/cronometer/usda_sr24.jar)")
	out := fs.String("out", "", "folder to write foods.csv.gz and portions.csv.gz into (pkg/nutrition/sr24/)")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("gensr24: %w", err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("gensr24: unexpected arguments %q", fs.Args())
	}
	if *jar == "" || *out == "" {
		return errors.New("gensr24: both -jar and -out are required")
	}
	foods, skips, err := readJar(*jar)
	if err != nil {
		return err
	}
	if err := writeData(*out, foods); err != nil {
		return err
	}
	portions := 0
	for _, f := range foods {
		portions += len(f.portions)
	}
	for _, s := range skips {
		fmt.Fprintf(log, "gensr24: skipped %s (%s): %s\n", s.ndb, s.description, s.reason)
	}
	fmt.Fprintf(log, "gensr24: wrote %d foods and %d portions to %s\n", len(foods), portions, *out)
	return nil
}
