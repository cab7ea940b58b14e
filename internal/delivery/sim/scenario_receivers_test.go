package sim

import (
	"testing"
	"time"
)

// receiversSchedule is base with several receivers behaving as given.
func receiversSchedule(protocol, balance string, behaviours []Behaviour, ranges ...Range) *Schedule {
	sc := base(protocol, ranges...)
	sc.Receivers, sc.Balance, sc.FailbackProbes, sc.ProbeInterval = len(behaviours), balance, 3, time.Second
	sc.Behaviours = behaviours
	sc.PullDelay = 20 * time.Millisecond
	p := clean()
	sc.otherPlans = &p
	return sc
}

// groups is n log groups of per messages of size bytes.
func groups(n, per, size int) [][]int {
	out := make([][]int, n)
	for i := range out {
		out[i] = sizes(per, size)
	}
	return out
}

func healthy() Behaviour { return Behaviour{Kind: behaveHealthy} }

// TestSimReceiverScenarios: the cases of issue 20 as hand-written
// schedules (they do not depend on the seed generator), each checked by
// the simulator's invariants and by what it must show.
func TestSimReceiverScenarios(t *testing.T) {
	for _, protocol := range []string{"relp", "relp-tls", "tcp"} {
		t.Run(protocol+"/the first receiver killed mid-range: the rest goes to the second", func(t *testing.T) {
			killed := Behaviour{Kind: behaveKilled, Outages: []Outage{{From: 150 * time.Millisecond, To: time.Hour, Refuse: true}}}
			sc := receiversSchedule(protocol, "failover", []Behaviour{killed, healthy()}, Range{PullCount: 1, Groups: groups(20, 10, 200)})
			res := RunSchedule(t, sc)
			u := res.Usage[0]
			if res.Failed() || res.Successes != 1 || res.Attempts != 1 || u == nil || len(u.Logs) != 2 || u.Switches != 1 ||
				u.Logs[0].Logs == 0 || u.Logs[1].Logs == 0 || u.Logs[0].Logs+u.Logs[1].Logs != 200 {
				t.Fatalf("want one success over both receivers, one switch:\n%s\nusage %+v", res, u)
			}
			t.Logf("usage %+v", u)
		})
	}
	t.Run("the first receiver down from the start: found down once, skipped by the next ranges", func(t *testing.T) {
		down := Behaviour{Kind: behaveDown, Outages: []Outage{{From: 0, To: time.Hour, Refuse: true}}}
		rg := Range{PullCount: 2, Groups: groups(4, 10, 100), Gap: 100 * time.Millisecond}
		res := RunSchedule(t, receiversSchedule("relp", "failover", []Behaviour{down, healthy()}, rg, rg, rg))
		if res.Failed() || res.Successes != 3 {
			t.Fatalf("want three successes:\n%s", res)
		}
		if u := res.Usage[0]; len(u.Logs) != 2 || u.Logs[0].Logs != 0 || u.Logs[1].Logs != 40 || u.Switches != 1 {
			t.Fatalf("first range: %+v", u)
		}
		for i, u := range res.Usage[1:] {
			if len(u.Logs) != 1 || u.Logs[0].Receiver != "siem-b.sim:514" || u.Switches != 0 {
				t.Fatalf("range %d did not skip the receiver found down: %+v", i+1, u)
			}
		}
	})
	t.Run("round-robin: ranges take the receivers in turn, each on one", func(t *testing.T) {
		rg := Range{PullCount: 1, Groups: groups(3, 10, 100)}
		res := RunSchedule(t, receiversSchedule("relp", "round-robin", []Behaviour{healthy(), healthy()}, rg, rg, rg, rg))
		if res.Failed() || res.Successes != 4 {
			t.Fatalf("want four successes:\n%s", res)
		}
		for i, u := range res.Usage {
			want := []string{"siem-a.sim:514", "siem-b.sim:514"}[i%2]
			if len(u.Logs) != 1 || u.Logs[0].Receiver != want || u.Logs[0].Logs != 30 {
				t.Fatalf("range %d: %+v, want all 30 on %s", i, u, want)
			}
		}
	})
	for _, afterOpen := range []bool{false, true} {
		name := map[bool]string{false: "answers nothing", true: "answers the open, then nothing"}[afterOpen]
		t.Run("a RELP receiver that accepts and never acknowledges ("+name+") is treated as down", func(t *testing.T) {
			mute := Behaviour{Kind: behaveMute, Mute: true, MuteAfterOpen: afterOpen}
			sc := receiversSchedule("relp", "failover", []Behaviour{mute, healthy()}, Range{PullCount: 1, Groups: groups(5, 10, 100)})
			res := RunSchedule(t, sc)
			u := res.Usage[0]
			if res.Failed() || res.Successes != 1 || len(u.Logs) != 2 || u.Logs[0].Logs != 0 || u.Logs[1].Logs != 50 {
				t.Fatalf("want every log on the second receiver:\n%s\nusage %+v", res, u)
			}
			if afterOpen && u.ResentAfterSwitch == 0 {
				t.Fatalf("the messages the mute receiver took were not resent after the switch: %+v", u)
			}
		})
	}
	t.Run("every receiver down past the retries: failed, never success", func(t *testing.T) {
		down := Behaviour{Kind: behaveDown, Outages: []Outage{{From: 0, To: time.Hour, Refuse: true}}}
		sc := receiversSchedule("relp", "failover", []Behaviour{down, down}, Range{PullCount: 1, Groups: groups(2, 5, 100)})
		sc.TriggerRetries = 2
		res := RunSchedule(t, sc)
		if res.Failed() || res.Successes != 0 || res.Attempts != 3 {
			t.Fatalf("want three failed attempts:\n%s", res)
		}
		for _, u := range res.Usage {
			if u.Switches < 1 || len(u.Logs) != 2 {
				t.Fatalf("an attempt did not try both receivers: %+v", u)
			}
		}
	})
	t.Run("receivers that keep failing and recovering: the range fails past the switch bound", func(t *testing.T) {
		// a dies at 100 ms, b at 250 ms, a again at 400 ms, …: each comes
		// back (one probe every 10 ms) before the other dies, and each
		// confirms logs in between, so the retry budget never runs out.
		var a, b Behaviour
		a.Kind, b.Kind = behaveFlap, behaveFlap
		for t0 := 100 * time.Millisecond; t0 < 5*time.Second; t0 += 300 * time.Millisecond {
			a.Outages = append(a.Outages, Outage{From: t0, To: t0 + 50*time.Millisecond, Refuse: true})
			b.Outages = append(b.Outages, Outage{From: t0 + 150*time.Millisecond, To: t0 + 200*time.Millisecond, Refuse: true})
		}
		sc := receiversSchedule("relp", "failover", []Behaviour{a, b}, Range{PullCount: 1, Groups: groups(100, 5, 100)})
		sc.MaxRetries, sc.FailbackProbes, sc.ProbeInterval = 1, 1, 10*time.Millisecond
		res := RunSchedule(t, sc)
		if res.Failed() || res.Successes != 0 || res.Events["failed past the switch bound"] != 1 {
			t.Fatalf("want the range failed past the switch bound:\n%s\n%v", res, res.Events)
		}
		if u := res.Usage[0]; u.Switches != 2 {
			t.Fatalf("usage %+v: want 2 switches, 2 receivers × 1, and none more", u)
		}
	})
}
