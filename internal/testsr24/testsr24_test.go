package testsr24

import "testing"

func TestDatasetIsLoadedOnce(t *testing.T) {
	a, b := Dataset(t), Dataset(t)
	if a != b {
		t.Fatal("two loads of the dataset, want one shared")
	}
	if len(a.Foods()) == 0 {
		t.Fatal("the dataset holds no foods")
	}
}
