package sample

import (
	"fmt"
	"time"
)

var appMessages = []struct{ level, logger, msg string }{
	{"INFO", "c.e.order.web.LoginController", "User 张伟 logged in from 203.0.113.45"},
	{"INFO", "c.e.order.web.LoginController", "User José García logged in from 203.0.113.46"},
	{"INFO", "c.e.order.service.PaymentService", "Payment accepted: amount=199.00|currency=CNY|order=ORD-20251124-0001"},
	{"INFO", "c.e.order.config.ConfigWatcher", `Config reloaded: {"feature.newCheckout":true,"dataDir":"C:\\data\\cfg"}`},
	{"INFO", "c.e.order.deploy.Hooks", "Deploy finished 🚀 version=2.3.1 by Zoë"},
	{"INFO", "c.e.order.service.OrderService", "Café order by François: crème brûlée ×2, total=¥58"},
	{"WARN", "c.e.order.web.LoginController", `Login failed for user=admin reason="bad password" attempts=5`},
	{"WARN", "c.e.order.security.WafFilter", "Blocked SQL injection: name = 'x' OR '1'='1' -- from 198.51.100.23"},
	{"WARN", "c.e.order.security.WafFilter", "Blocked path traversal: path=/api/v1/items?filter=x||y]&file=../../etc/shadow"},
	{"DEBUG", "c.e.order.repo.OrderRepository", "Query took 12ms rows=20 sql=[SELECT id, status FROM orders WHERE user_id = ?]"},
}

var stackTraces = []string{
	"java.lang.NullPointerException: Cannot invoke \"String.length()\" because \"s\" is null\n" +
		"\tat com.example.order.service.OrderService.validate(OrderService.java:42)\n" +
		"\tat com.example.order.web.OrderController.create(OrderController.java:88)\n" +
		"\tat java.base/java.lang.Thread.run(Thread.java:1583)",
	"Traceback (most recent call last):\n" +
		"  File \"/app/worker/main.py\", line 10, in <module>\n" +
		"    run(job['id'])\n" +
		"KeyError: 'id'",
	"System.InvalidOperationException: Sequence contains no elements\r\n" +
		"   at System.Linq.ThrowHelper.ThrowNoElementsException()\r\n" +
		"   at Payment.Gateway.Program.Main(String[] args) in C:\\src\\Payment.Gateway\\Program.cs:line 17\r\n",
}

func appTime(t uint32, ns uint32) string {
	return time.Unix(int64(t), int64(ns)).In(cst).Format("2006-01-02 15:04:05.000")
}

// app fills l with an application log parsed by Logtail's regex mode.
func (g *generator) app(l Log) Log {
	thread := fmt.Sprintf("[http-nio-8080-exec-%d]", 1+g.r.intn(12))
	traceID := g.r.hex(16, false)
	if g.r.intn(6) == 0 {
		l.Contents = []Pair{
			{"time", appTime(l.Time, l.TimeNs)},
			{"level", "ERROR"},
			{"thread", thread},
			{"logger", "c.e.order.web.GlobalExceptionHandler"},
			{"trace_id", traceID},
			{"msg", "Unhandled exception while processing request"},
			{"stack", g.r.pick(stackTraces)},
		}
		return l
	}
	m := appMessages[g.r.intn(len(appMessages))]
	l.Contents = []Pair{
		{"time", appTime(l.Time, l.TimeNs)},
		{"level", m.level},
		{"thread", thread},
		{"logger", m.logger},
		{"trace_id", traceID},
		{"msg", m.msg},
	}
	return l
}

// edge fills the edge-case group: the special logs first, then ordinary
// application logs.
func (g *generator) edge(logs []Log) []Log {
	special := [][]Pair{
		// A repeated key: when flattened, the later value replaces the
		// earlier one in place.
		{{"level", "INFO"}, {"msg", "retry scheduled"}, {"level", "WARN"}, {"attempt", "3"}},
		// Content keys that look like SLS tags or reserved fields.
		{{"__hostname__", "spoofed-host"}, {"__tag__:__client_ip__", "198.51.100.66"}, {"msg", "tag-like keys in contents"}},
		// An empty value and a non-ASCII key.
		{{"user", ""}, {"用户名", "王芳"}, {"msg", "anonymous request"}},
		// Every character that syslog structured data or key=value formats
		// must escape.
		{{"msg", "a=b|c||d]e\\f\"g\"\th [x] k=\"v\""}, {"path", `C:\Program Files\App\]bin`}, {"emoji", "🔥🚀✅"}},
		// A CR/LF stack trace and a bare LF message.
		{{"level", "ERROR"}, {"msg", "line one\nline two"}, {"stack", stackTraces[2]}},
	}
	for i := range logs {
		if i < len(special) {
			logs[i].Contents = special[i]
			if i == 0 {
				logs[i].TimeNs = 0
			}
			continue
		}
		logs[i] = g.app(logs[i])
	}
	return logs
}
