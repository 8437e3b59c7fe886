package main

import (
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
)

// Output file names and their CSV headers; package sr24 reads the same.
const (
	foodsFile    = "foods.csv.gz"
	portionsFile = "portions.csv.gz"
)

var (
	foodsHeader    = []string{"ndb", "description", "energy_kcal", "protein_g", "carbohydrate_g", "fat_g", "fiber_g", "sodium_mg"}
	portionsHeader = []string{"ndb", "description", "grams"}
)

// writeData writes foods.csv.gz and portions.csv.gz into dir, which must
// exist. foods must be sorted by NDB number.
func writeData(dir string, foods []food) error {
	info, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("gensr24: output folder: %w", err)
	}
	if !info.IsDir() {
		return fmt.Errorf("gensr24: output %s is not a folder", dir)
	}
	foodRows := [][]string{foodsHeader}
	portionRows := [][]string{portionsHeader}
	for _, f := range foods {
		row := []string{f.ndb, f.description}
		for n := nutrient(0); n < nutrientCount; n++ {
			value := ""
			if f.known[n] {
				value = formatNumber(f.amounts[n])
			}
			row = append(row, value)
		}
		foodRows = append(foodRows, row)
		for _, p := range f.portions {
			portionRows = append(portionRows, []string{f.ndb, p.description, formatNumber(p.grams)})
		}
	}
	if err := writeGzipCSV(filepath.Join(dir, foodsFile), foodRows); err != nil {
		return err
	}
	return writeGzipCSV(filepath.Join(dir, portionsFile), portionRows)
}

// writeGzipCSV writes rows as gzip'd CSV. The gzip header is left empty (no
// file name, modification time zero) so the bytes depend on rows only.
func writeGzipCSV(name string, rows [][]string) error {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return fmt.Errorf("gensr24: %s: %w", name, err)
	}
	cw := csv.NewWriter(zw)
	if err := cw.WriteAll(rows); err != nil {
		return fmt.Errorf("gensr24: %s: %w", name, err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("gensr24: %s: %w", name, err)
	}
	if err := os.WriteFile(name, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("gensr24: %w", err)
	}
	return nil
}
