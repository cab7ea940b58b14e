package scrape

import "testing"

func TestParse(t *testing.T) {
	s, err := Parse(`# HELP a_total A.
# TYPE a_total counter
a_total{shard="0",kind="connect"} 3
a_total{shard="1",kind="write"} 4.5 1700000000000
b{path="C:\\x",msg="say \"hi\"\nbye",} 1e3
c 0
`)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := s.Value("a_total", "shard", "1"); !ok || v != 4.5 {
		t.Errorf("a_total{shard=1} = %v %v", v, ok)
	}
	if _, ok := s.Value("a_total"); ok {
		t.Error("Value matched two samples")
	}
	if s.Sum("a_total") != 7.5 || len(s.Find("a_total", "kind", "connect")) != 1 {
		t.Errorf("sum %v", s.Sum("a_total"))
	}
	if v, ok := s.Value("b", "path", `C:\x`, "msg", "say \"hi\"\nbye"); !ok || v != 1000 {
		t.Errorf("b with escapes: %v %v (%+v)", v, ok, s)
	}
	if v, ok := s.Value("c"); !ok || v != 0 {
		t.Errorf("c = %v %v", v, ok)
	}
	for _, bad := range []string{"x{a=\"b} 1", "x 1 2 3", "x{a=b} 1", "x nope"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}
