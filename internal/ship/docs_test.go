package ship

import (
	"encoding/json"
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestSummaryExample: docs/architecture.md's example answer of a
// successful invocation has exactly the fields of Summary (the counters
// included), so the documented names are the ones the function writes.
func TestSummaryExample(t *testing.T) {
	b, err := os.ReadFile("../../docs/architecture.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(b), "The answer of a successful invocation")
	if !ok {
		t.Fatal("docs/architecture.md lost the example answer")
	}
	_, after, _ = strings.Cut(after, "```json\n")
	example, _, _ := strings.Cut(after, "```")
	var doc map[string]any
	if err := json.Unmarshal([]byte(example), &doc); err != nil {
		t.Fatalf("docs/architecture.md's example answer is not JSON: %v\n%s", err, example)
	}
	out, _ := json.Marshal(Summary{RequestID: "r"})
	var want map[string]any
	json.Unmarshal(out, &want)
	if got, want := slices.Sorted(maps.Keys(doc)), slices.Sorted(maps.Keys(want)); !reflect.DeepEqual(got, want) {
		t.Errorf("docs/architecture.md's example answer has fields\n%v\nthe function writes\n%v", got, want)
	}
}
