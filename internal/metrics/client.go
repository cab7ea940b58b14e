package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"

	"sls2siem/internal/trust"
)

// maxHealthBody bounds a /healthz answer read by FetchHealth (a line per
// shard).
const maxHealthBody = 1 << 20

// FetchHealth asks the consumer daemon serving at addr (host:port: its
// SHIP_METRICS_ADDR) for its /healthz answer, as `sls2siem status -metrics`
// does: its consumer name and the shards it holds, each with the syslog
// receiver it sends to. A 503 (a shard stuck) is an answer too. The
// answer is untrusted: at most 1 MiB is read, and a receiver that is not
// host:port fails it.
func FetchHealth(ctx context.Context, addr string) (Health, error) {
	var h Health
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/healthz", nil)
	if err != nil {
		return h, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return h, fmt.Errorf("ask the consumer daemon at %s: %w", addr, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusServiceUnavailable {
		return h, fmt.Errorf("ask the consumer daemon at %s: /healthz answered HTTP %d", addr, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxHealthBody+1))
	if err != nil {
		return h, fmt.Errorf("ask the consumer daemon at %s: read /healthz: %w", addr, err)
	}
	if len(body) > maxHealthBody {
		return h, fmt.Errorf("ask the consumer daemon at %s: /healthz answered more than %d bytes", addr, maxHealthBody)
	}
	if err := json.Unmarshal(body, &h); err != nil {
		return h, fmt.Errorf("ask the consumer daemon at %s: /healthz is not an sls2siem health answer: %w", addr, err)
	}
	for _, s := range h.Shards {
		if s.Receiver != "" && !validReceiver(s.Receiver) {
			return Health{}, fmt.Errorf("ask the consumer daemon at %s: /healthz names a receiver that is not host:port for shard %d", addr, s.Shard)
		}
	}
	if h.Consumer == "" {
		return h, errors.New("ask the consumer daemon at " + addr + ": /healthz names no consumer")
	}
	return h, nil
}

// validReceiver reports whether s is host:port, as a receiver's name is.
func validReceiver(s string) bool {
	host, port, err := net.SplitHostPort(s)
	n, perr := strconv.Atoi(port)
	return err == nil && perr == nil && n >= 1 && n <= 65535 && (net.ParseIP(host) != nil || trust.ValidHostName(host))
}
