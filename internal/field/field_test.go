package field

import (
	"errors"
	"strings"
	"testing"
)

func TestRender(t *testing.T) {
	e := Errorf("Framing", "is %q but {Network} is relp: RELP frames every message itself; unset {Framing}", "lf")
	if got := e.Error(); got != `Framing is "lf" but Network is relp: RELP frames every message itself; unset Framing` {
		t.Errorf("Error() = %q", got)
	}
	names := map[string]string{"Framing": "SYSLOG_FRAMING", "Network": "SYSLOG_PROTOCOL"}
	got := e.Render(func(f string) string { return names[f] })
	if got != `SYSLOG_FRAMING is "lf" but SYSLOG_PROTOCOL is relp: RELP frames every message itself; unset SYSLOG_FRAMING` {
		t.Errorf("Render = %q", got)
	}
}

func TestAll(t *testing.T) {
	a, b := Errorf("A", "bad"), Errorf("B", "worse")
	errs, ok := All(errors.Join(a, errors.Join(b)))
	if !ok || len(errs) != 2 || errs[0] != a || errs[1] != b {
		t.Errorf("All = %v, %v", errs, ok)
	}
	if errs, ok := All(nil); !ok || len(errs) != 0 {
		t.Errorf("All(nil) = %v, %v", errs, ok)
	}
	if _, ok := All(errors.Join(a, errors.New("other"))); ok {
		t.Error("All accepted an error that is not a field error")
	}
	if !strings.Contains(errors.Join(a, b).Error(), "A bad\nB worse") {
		t.Error("joined text")
	}
}
