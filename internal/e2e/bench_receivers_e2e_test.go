package e2e

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// BenchmarkReceivers is `make bench`'s part for several receivers (issue
// 20): RELP into two imrelp receivers with round-robin next to one, and
// failover whose first receiver is healthy next to a single host, on one
// generated data set (SLS2SIEM_BENCH_LOGS, at most 500k logs here). Each
// figure ships the data as two half ranges at once on one instance (two
// ranges in flight, as the trigger sends two shards), into rsyslog with
// one output file; the single-host and failover runs alternate twice and
// the best of each counts, which damps a shared machine's noise. It runs
// once whatever b.N is, and appends its report to SLS2SIEM_BENCH_OUT.
func BenchmarkReceivers(b *testing.B) {
	requireImrelp(b)
	logs := 500_000
	if v, err := strconv.Atoi(os.Getenv("SLS2SIEM_BENCH_LOGS")); err == nil && v > 0 {
		logs = min(v, logs)
	}
	const perGroup = 100
	logs -= logs % (2 * perGroup)
	c := benchCloud(b, logs, perGroup)
	pki := newTestPKI(b)
	rs := []*benchRsyslog{startBenchRsyslog(b, pki), startBenchRsyslog(b, pki)}
	env := func(balance string, which ...int) []string {
		var hosts, ports []string
		for _, i := range which {
			hosts, ports = append(hosts, "127.0.0.1"), append(ports, strconv.Itoa(rs[i].ports.RELP))
		}
		return []string{"SYSLOG_HOST=" + strings.Join(hosts, ","), "SYSLOG_PORT=" + strings.Join(ports, ","), "SYSLOG_PROTOCOL=relp",
			"SYSLOG_BALANCE=" + balance, "SYSLOG_MAX_MESSAGE_SIZE=65536", "SLS_PULL_COUNT=100"}
	}
	mid := c.cursor(logs / perGroup / 2)
	// run ships the data as two half ranges at once and returns logs/s,
	// from the first invocation until the receivers wrote every log, and
	// where the CPU went meanwhile.
	var use cpuUse
	run := func(e []string) float64 {
		fn := benchFunction(b, c, e, 2)
		defer fn.Stop(context.Background())
		pids := []int{fn.PID(), rs[0].cmd.Process.Pid, rs[1].cmd.Process.Pid, os.Getpid()}
		cpu0, machine0 := cpuSeconds(pids), machineCPU()
		defer func() {
			cpu1, machine1 := cpuSeconds(pids), machineCPU()
			use = cpuUse{}
			for i := range pids {
				use.procs[i] = cpu1[i] - cpu0[i]
			}
			use.busy, use.total = machine1[0]-machine0[0], machine1[1]-machine0[1]
		}()
		want := 0
		for _, r := range rs {
			want += r.count(b)
		}
		want += logs
		start := time.Now()
		var wg sync.WaitGroup
		for _, h := range [][2]string{{c.begin, mid}, {mid, c.end}} {
			wg.Go(func() { benchInvoke(b, fn, c, h[0], h[1], logs/2) })
		}
		wg.Wait()
		deadline := time.Now().Add(5 * time.Minute)
		for {
			n := 0
			for _, r := range rs {
				n += r.count(b)
			}
			if n >= want {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("the receivers wrote %d of %d lines", n, want)
			}
			time.Sleep(2 * time.Millisecond) // polling the output files
		}
		return rate(logs, time.Since(start))
	}
	var single, failover float64
	for range 2 {
		single = max(single, run(env("failover", 0)))
		failover = max(failover, run(env("failover", 0, 1)))
	}
	before := rs[1].count(b)
	start := time.Now()
	roundRobin := run(env("round-robin", 0, 1))
	wall := time.Since(start).Seconds()
	second := rs[1].count(b) - before

	var out strings.Builder
	fmt.Fprintf(&out, "sls2siem receivers benchmark: %d logs as two half ranges at once, RELP into rsyslog imrelp, %s\n", logs, time.Now().UTC().Format(time.RFC3339))
	fmt.Fprintf(&out, "  one receiver (best of 2)                          %10.0f logs/s\n", single)
	fmt.Fprintf(&out, "  two receivers, round-robin                        %10.0f logs/s  = %.2f× one receiver (target ≥ 1.7×); the second took %d logs\n",
		roundRobin, roundRobin/single, second)
	fmt.Fprintf(&out, "  failover, the first receiver healthy (best of 2)  %10.0f logs/s  = %+.1f %% from a single host (target within 3 %%)\n",
		failover, 100*(failover-single)/single)
	perLog := func(sec float64) float64 { return sec / float64(logs) * 1e6 }
	fmt.Fprintf(&out, "  CPU during round-robin (%.1f s wall, %d cores %.0f %% busy, other processes included): per log, the function %.1f µs, "+
		"each rsyslog %.1f and %.1f µs, the SLS emulator and this harness %.1f µs\n",
		wall, runtime.NumCPU(), 100*use.busy/use.total, perLog(use.procs[0]), 2*perLog(use.procs[1]), 2*perLog(use.procs[2]), perLog(use.procs[3]))
	fmt.Print(out.String())
	if path := os.Getenv("SLS2SIEM_BENCH_OUT"); path != "" {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteString(out.String()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(roundRobin/single, "round-robin-x")
	b.ReportMetric(100*(failover-single)/single, "failover-%")
}

// cpuUse is where the CPU went during a run: seconds of each process
// (the function, the two rsyslogs, this process: the SLS emulator and
// the harness), and the machine's busy and total jiffies.
type cpuUse struct {
	procs       [4]float64
	busy, total float64
}

// cpuSeconds reads the user and system CPU seconds of each process.
func cpuSeconds(pids []int) []float64 {
	out := make([]float64, len(pids))
	for i, pid := range pids {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// Fields after the command (which may hold spaces) start at ')'.
		f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
		if len(f) > 12 {
			u, _ := strconv.ParseFloat(f[11], 64)
			s, _ := strconv.ParseFloat(f[12], 64)
			out[i] = (u + s) / 100 // USER_HZ
		}
	}
	return out
}

// machineCPU reads the machine's busy and total jiffies (/proc/stat).
func machineCPU() [2]float64 {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return [2]float64{}
	}
	line, _, _ := strings.Cut(string(data), "\n")
	var busy, total float64
	for i, f := range strings.Fields(line)[1:] {
		v, _ := strconv.ParseFloat(f, 64)
		total += v
		if i != 3 && i != 4 { // idle, iowait
			busy += v
		}
	}
	return [2]float64{busy, total}
}
