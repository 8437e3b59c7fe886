package sr24

import "testing"

// BenchmarkLoad measures parsing the embedded data and building the index:
//
//	go test -run '^$' -bench Load -benchmem ./pkg/nutrition/sr24/
func BenchmarkLoad(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLookup(b *testing.B) {
	d := loadData(b)
	for _, name := range []string{"chicken breast", "Chicken Breasts", "chiken brest", "150 g grilled chicken breast with rice"} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := d.Lookup(name); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkSearch(b *testing.B) {
	d := loadData(b)
	for _, query := range []string{"salmon", "chicken"} {
		b.Run(query, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if len(d.Search(query, 10)) == 0 {
					b.Fatal("no match")
				}
			}
		})
	}
}
