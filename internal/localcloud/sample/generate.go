package sample

import (
	"fmt"
	"strconv"
)

// Parameters of the committed sample in testdata/logstore.
const (
	DefaultSeed           = 20261124
	DefaultShards         = 2
	DefaultGroupsPerShard = 100
)

// Names of the generated logstore.
const (
	DefaultProject  = "sls2siem-demo"
	DefaultLogstore = "audit"
)

// Topics of the generated groups. Application logs have an empty topic.
const (
	TopicAudit = "actiontrail_audit_event"
	TopicNginx = "nginx_access"
	TopicSLB   = "slb_layer7_access_log"
	TopicApp   = ""
)

// logsPerSlot is the mean number of logs per generated group.
const logsPerSlot = 15

// baseTime is the start of the day the generated logs cover,
// 2026-11-24T00:00:00Z.
const baseTime = 1795478400

// Generate returns a deterministic logstore of realistic security logs:
// ActionTrail-like audit events, nginx and SLB access logs and application
// logs, spread over one day, with groupsPerShard groups of 15 logs on
// average in each shard. The same arguments always give the same data.
// Every shard contains one group (the third) of edge cases: repeated keys,
// tag-like keys, empty values, CR/LF stack traces and unusual characters.
// Generate panics if shards or groupsPerShard is not positive.
func Generate(seed int64, shards, groupsPerShard int) *Logstore {
	if shards < 1 || groupsPerShard < 1 {
		panic(fmt.Sprintf("sample.Generate: shards (%d) and groupsPerShard (%d) must be positive", shards, groupsPerShard))
	}
	g := &generator{r: newRNG(seed)}
	g.init()
	ls := &Logstore{Project: DefaultProject, Logstore: DefaultLogstore, Shards: make([][]LogGroup, shards)}
	for i := range ls.Shards {
		ls.Shards[i] = g.shard(groupsPerShard)
	}
	return ls
}

type kind int

const (
	kindAudit kind = iota
	kindNginx
	kindSLB
	kindApp
	kindEdge
)

// host is a log source: a machine running Logtail, or a service endpoint.
type host struct {
	name, ip, clientIP, path string
	packCtx                  string
	packSeq                  int
}

type generator struct {
	r     *rng
	hosts map[kind][]*host
	users []user
}

func (g *generator) init() {
	g.hosts = map[kind][]*host{
		kindAudit: {g.newHost("", "100.104.38.12", "100.104.38.12", "")},
		kindNginx: {
			g.newHost("web-01", "192.168.10.11", "47.96.120.11", "/var/log/nginx/access.log"),
			g.newHost("web-02", "192.168.10.12", "47.96.120.12", "/var/log/nginx/access.log"),
			g.newHost("iZbp1f0xq3k8s2m4n6p7rdZ", "192.168.10.13", "47.96.120.13", "/var/log/nginx/access.log"),
		},
		kindSLB: {g.newHost("", "100.118.76.5", "100.118.76.5", "")},
		kindApp: {
			g.newHost("order-svc-7d9f8b6c5-x2k4p", "172.16.3.21", "47.96.121.40", "/var/log/app/order-service.log"),
			g.newHost("pay-gw-01", "172.16.3.35", "47.96.121.41", "/app/logs/payment-gateway.log"),
		},
	}
	g.hosts[kindEdge] = g.hosts[kindApp]
	g.users = g.newUsers()
}

func (g *generator) newHost(name, ip, clientIP, path string) *host {
	return &host{name: name, ip: ip, clientIP: clientIP, path: path, packCtx: g.r.hex(16, true), packSeq: g.r.intn(4096)}
}

// shard generates n groups covering baseTime's day.
func (g *generator) shard(n int) []LogGroup {
	sizes := g.sizes(n)
	span := 86400 / n
	if span < 2 {
		span = 2
	}
	groups := make([]LogGroup, n)
	for i := range groups {
		k := g.kind(i)
		start := baseTime + i*span + g.r.intn(span/2)
		groups[i] = g.group(k, uint32(start), span/2, sizes[i])
	}
	return groups
}

// sizes returns n group sizes averaging logsPerSlot: pairs of groups sum to
// twice the mean.
func (g *generator) sizes(n int) []int {
	s := make([]int, n)
	for i := 0; i+1 < n; i += 2 {
		d := g.r.intn(21) - 10
		s[i], s[i+1] = logsPerSlot+d, logsPerSlot-d
	}
	if n%2 == 1 {
		s[n-1] = logsPerSlot
	}
	return s
}

func (g *generator) kind(i int) kind {
	if i == 2 {
		return kindEdge
	}
	switch v := g.r.intn(100); {
	case v < 35:
		return kindAudit
	case v < 70:
		return kindNginx
	case v < 80:
		return kindSLB
	default:
		return kindApp
	}
}

// group builds one group of size logs from start over about window seconds.
func (g *generator) group(k kind, start uint32, window, size int) LogGroup {
	hs := g.hosts[k]
	h := hs[g.r.intn(len(hs))]
	lg := LogGroup{Source: h.ip}
	times := g.times(start, window, size)
	var logs []Log
	switch k {
	case kindAudit:
		lg.Topic = TopicAudit
		for _, t := range times {
			logs = append(logs, g.audit(t))
		}
	case kindNginx:
		lg.Topic = TopicNginx
		for _, t := range times {
			logs = append(logs, g.nginx(t))
		}
	case kindSLB:
		lg.Topic = TopicSLB
		for _, t := range times {
			logs = append(logs, g.slb(t))
		}
	case kindApp:
		lg.Topic = TopicApp
		for _, t := range times {
			logs = append(logs, g.app(t))
		}
	case kindEdge:
		lg.Topic = TopicApp
		logs = g.edge(times)
	}
	lg.Logs = logs
	var last uint32
	for _, l := range logs {
		last = max(last, l.Time)
	}
	h.packSeq++
	if h.name != "" {
		lg.Tags = append(lg.Tags, Pair{"__hostname__", h.name}, Pair{"__path__", h.path})
	}
	lg.Tags = append(lg.Tags,
		Pair{"__pack_id__", fmt.Sprintf("%s-%X", h.packCtx, h.packSeq)},
		Pair{"__client_ip__", h.clientIP},
		Pair{"__receive_time__", strconv.FormatUint(uint64(last)+1+uint64(g.r.intn(3)), 10)},
	)
	return lg
}

// times returns size log times from start spread over window seconds,
// increasing with a jitter of a second either way.
func (g *generator) times(start uint32, window, size int) []Log {
	out := make([]Log, size)
	for j := range out {
		t := int(start) + j*window/size
		switch g.r.intn(8) {
		case 0:
			t--
		case 1:
			t++
		}
		out[j].Time = uint32(t)
		if g.r.intn(16) != 0 {
			out[j].TimeNs = uint32(1 + g.r.intn(999_999_999))
		}
	}
	return out
}

// rng is splitmix64: small, fast, and independent of the standard library's
// generators, so the committed sample never changes with the Go version.
type rng struct{ s uint64 }

func newRNG(seed int64) *rng { return &rng{s: uint64(seed)} }

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// intn returns a number in [0, n); n must be positive.
func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

func (r *rng) pick(xs []string) string { return xs[r.intn(len(xs))] }

func (r *rng) hex(n int, upper bool) string {
	digits := "0123456789abcdef"
	if upper {
		digits = "0123456789ABCDEF"
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[r.intn(16)]
	}
	return string(b)
}

func (r *rng) alnum(n int) string {
	const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = chars[r.intn(len(chars))]
	}
	return string(b)
}

func (r *rng) uuid() string {
	return r.hex(8, false) + "-" + r.hex(4, false) + "-4" + r.hex(3, false) + "-a" + r.hex(3, false) + "-" + r.hex(12, false)
}
