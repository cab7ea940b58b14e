package consume

import (
	"context"
	"time"

	"sls2siem/internal/status"
)

// probeLag measures, every interval until stop is closed, how far each
// held shard that is not caught up is behind (status.Locate: the shard's
// end and the receive time of the first log group not yet delivered), and
// reports it to the Observer. Caught-up shards are reported by Process
// itself, without a request.
func (p *processor) probeLag(stop <-chan struct{}, client status.Client, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		for shard, cursor := range p.behind() {
			pos, err := status.Locate(context.Background(), client, p.project, p.logstore, shard, cursor)
			if err != nil {
				p.log.Debug("lag probe failed; the shard's lag is not updated", "shard", shard, "error", err.Error())
				continue
			}
			select {
			case <-stop:
				return
			default:
			}
			if _, still := p.behind()[shard]; !still {
				continue // released, or caught up meanwhile: Process reported it
			}
			if pos.CaughtUp {
				p.obs.Lag(shard, Lag{CaughtUp: true})
				continue
			}
			p.obs.Lag(shard, Lag{OldestWaiting: pos.At, LogGroups: pos.Behind, LogGroupsKnown: pos.BehindKnown})
		}
	}
}

// behind returns the held shards not known to be caught up, each with the
// cursor of its first log group not yet delivered.
func (p *processor) behind() map[int]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[int]string{}
	for shard, st := range p.shards {
		if st.cursor != "" && !st.caughtUp {
			out[shard] = st.cursor
		}
	}
	return out
}
