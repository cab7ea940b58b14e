package consume

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
	consumer "github.com/aliyun/aliyun-log-go-sdk/consumer"

	"sls2siem/internal/config"
	"sls2siem/internal/delivery"
	"sls2siem/internal/receivers"
	"sls2siem/internal/secret"
	"sls2siem/internal/ship"
	"sls2siem/internal/slsapi"
)

// Options configure one run of a consumer.
type Options struct {
	Consume config.Consume
	// Credentials sign the SLS requests. The zero value takes the
	// AccessKey pair of Consume (the daemon); FC passes the invocation's.
	Credentials  secret.Credentials
	PullCount    int           // log groups per pull (SLS_PULL_COUNT)
	RetryBackoff time.Duration // first pause after a failed delivery; it doubles
	Shipper      *ship.Shipper
	Log          *slog.Logger
	// WriteDeadline bounds every socket write and delivery check (the FC
	// invocation's deadline less its margin); zero: SYSLOG_WRITE_TIMEOUT
	// bounds each write.
	WriteDeadline time.Time
	// Transport carries the SLS requests; nil: the Shipper's.
	Transport http.RoundTripper
	// Observer is told of heartbeats, deliveries, failures, lag and
	// checkpoints (the daemon's metrics); nil: nobody.
	Observer Observer
}

// Summary is what one run did, the JSON answer of an FC invocation and
// the fields of the run's last log line (see delivery.Counters).
type Summary struct {
	RequestID string `json:"requestId,omitempty"`
	Project   string `json:"project"`
	Logstore  string `json:"logstore"`
	Group     string `json:"consumerGroup"`
	Consumer  string `json:"consumer"`
	Shards    []int  `json:"shards"` // shards held during the run
	delivery.Counters
	// Receivers says, with several receivers, how many logs each took
	// (in SYSLOG_HOST's order); absent with one.
	Receivers []receivers.Share `json:"receivers,omitempty"`
	// Undelivered counts the batches left undelivered by the stop (one
	// per shard at most): not checkpointed, the group sends them again.
	Undelivered int   `json:"undelivered"`
	DurationMS  int64 `json:"durationMs"`
}

func (s *Summary) addShard(shard int) {
	if !slices.Contains(s.Shards, shard) {
		s.Shards = append(s.Shards, shard)
		slices.Sort(s.Shards)
	}
}

// ErrStopTimeout is wrapped by Run's error when the consumer did not stop
// within its stop timeout; its goroutines may still be running.
var ErrStopTimeout = errors.New("stop timed out")

// Run joins the consumer group (creating it if needed) and ships the shards
// the group assigns to this consumer until ctx is done. It then stops
// cleanly within Consume.StopTimeout: the batch in flight is finished, the
// checkpoints of everything delivered are saved and the shard workers
// released; the heartbeats stop, and after the group's timeout the other
// consumers take the shards over.
// The Summary counts what was delivered even on error.
func Run(ctx context.Context, o Options) (sum Summary, err error) {
	start := time.Now()
	c := o.Consume
	creds := o.Credentials
	if creds.AccessKeyID == "" {
		creds = c.Credentials
	}
	log := o.Log.With("project", c.Project, "logstore", c.Logstore, "consumerGroup", c.Group, "consumer", c.Name)
	sum = Summary{Project: c.Project, Logstore: c.Logstore, Group: c.Group, Consumer: c.Name, Shards: []int{}}
	defer func() {
		sum.DurationMS = time.Since(start).Milliseconds()
		logSummary(log, sum, err)
	}()
	client, err := slsapi.New(c.Endpoint, creds, o.Shipper.SLSTransport())
	if err != nil {
		return sum, err
	}
	if err := client.EnsureGroup(ctx, c.Project, c.Logstore, c.Group, int(c.HeartbeatTimeout/time.Second)); err != nil {
		return sum, err
	}
	writeCtx := context.Background()
	if !o.WriteDeadline.IsZero() {
		var cancel context.CancelFunc
		writeCtx, cancel = context.WithDeadline(writeCtx, o.WriteDeadline)
		defer cancel()
	}
	stopping := make(chan struct{})
	proc := newProcessor(o, log, writeCtx, stopping)
	hub := hubConfig(c, creds, o.PullCount, libraryClient(o), log)
	// Signed as the Shipper's requests are (slsapi.New checked the region).
	hub.AuthVersion, hub.Region, _ = o.Shipper.SLSTransport().Signing().For(c.Endpoint)
	worker := consumer.InitConsumerWorkerWithProcessor(hub, proc)
	worker.Start()
	log.Info("consumer started", "config", c)
	if o.Observer != nil {
		go proc.probeLag(stopping, client, c.HeartbeatInterval)
	}
	<-ctx.Done()
	proc.obs.Stopping()
	close(stopping)
	err = stop(worker, c, log)
	return mergeSummary(sum, proc.summary()), err
}

// newProcessor is the library's Processor for o.
func newProcessor(o Options, log *slog.Logger, writeCtx context.Context, stopping <-chan struct{}) *processor {
	obs := o.Observer
	if obs == nil {
		obs = nopObserver{}
	}
	var byReceiver map[string]int64
	if o.Shipper.Receivers().Len() > 1 {
		byReceiver = map[string]int64{}
	}
	return &processor{
		byReceiver: byReceiver,
		project:    o.Consume.Project,
		logstore:   o.Consume.Logstore,
		shipper:    o.Shipper,
		log:        log,
		writeCtx:   writeCtx,
		stopping:   stopping,
		backoff:    max(o.RetryBackoff, 10*time.Millisecond),
		flushEach:  o.Consume.CheckpointInterval == 0,
		obs:        obs,
		shards:     make(map[int]*shardState),
	}
}

// libraryClient is the consumer library's HTTP client: the Shipper's SLS
// transport (or o.Transport), watched by the Observer.
func libraryClient(o Options) *http.Client {
	var transport http.RoundTripper = o.Shipper.SLSTransport()
	if o.Transport != nil {
		transport = o.Transport
	}
	if o.Observer != nil {
		transport = watchingTransport{base: transport, obs: o.Observer}
	}
	return slsapi.HTTPClient(transport, slsapi.PullTimeout)
}

// stop stops the worker within the stop timeout: the batch in flight is
// finished, the checkpoints saved and the shards released.
func stop(worker *consumer.ConsumerWorker, c config.Consume, log *slog.Logger) error {
	log.Info("consumer stopping: finishing the batch in flight, saving the checkpoints, releasing the shards")
	stopped := make(chan struct{})
	go func() {
		worker.StopAndWait()
		close(stopped)
	}()
	timer := time.NewTimer(c.StopTimeout)
	defer timer.Stop()
	select {
	case <-stopped:
		// The group hands the shards to the other consumers once this
		// one's heartbeats have been missing for the group's timeout.
		return nil
	case <-timer.C:
		return fmt.Errorf("consumer %s did not stop within %s (%s): %w; checkpoints of delivered logs may not all be saved, and the group sends what follows the saved ones again",
			c.Name, c.StopTimeout, config.VarSLSConsumerStopTimeout, ErrStopTimeout)
	}
}

func mergeSummary(base, s Summary) Summary {
	s.RequestID, s.Project, s.Logstore, s.Group, s.Consumer = base.RequestID, base.Project, base.Logstore, base.Group, base.Consumer
	if s.Shards == nil {
		s.Shards = []int{}
	}
	return s
}

// hubConfig is the consumer library's configuration.
func hubConfig(c config.Consume, creds secret.Credentials, pullCount int, httpClient *http.Client, log *slog.Logger) consumer.LogHubConfig {
	cfg := consumer.LogHubConfig{
		Endpoint:                  c.Endpoint,
		CredentialsProvider:       sls.NewStaticCredentialsProvider(creds.AccessKeyID, creds.AccessKeySecret, creds.SecurityToken),
		Project:                   c.Project,
		Logstore:                  c.Logstore,
		ConsumerGroupName:         c.Group,
		ConsumerName:              c.Name,
		HeartbeatIntervalInSecond: int(c.HeartbeatInterval / time.Second),
		HeartbeatTimeoutInSecond:  int(c.HeartbeatTimeout / time.Second),
		DataFetchIntervalInMs:     max(c.FetchInterval.Milliseconds(), 1), // 0 would mean the library's 200
		MaxFetchLogGroupCount:     pullCount,
		HTTPClient:                httpClient,
		Logger:                    sdkLogger{log: log, secrets: creds.Values()},
		AutoCommitDisabled:        c.CheckpointInterval == 0,
		AutoCommitIntervalInMS:    max(c.CheckpointInterval.Milliseconds(), 1),
	}
	switch c.Start.Position {
	case config.CursorBegin:
		cfg.CursorPosition = consumer.BEGIN_CURSOR
	case config.CursorEnd:
		cfg.CursorPosition = consumer.END_CURSOR
	default:
		cfg.CursorPosition = consumer.SPECIAL_TIMER_CURSOR
		cfg.CursorStartTime = c.Start.Time
	}
	return cfg
}

// logSummary writes the run's last line: outcome success, error, or
// stopped when the stop left batches undelivered.
func logSummary(log *slog.Logger, s Summary, err error) {
	attrs := append([]slog.Attr{slog.Any("shards", s.Shards)}, s.Counters.Attrs()...)
	if s.Receivers != nil {
		attrs = append(attrs, slog.Any("receivers", s.Receivers))
	}
	attrs = append(attrs, slog.Int("undelivered", s.Undelivered), slog.Int64("durationMs", s.DurationMS))
	if err == nil && s.Undelivered > 0 {
		batches, them := "batches", "them"
		if s.Undelivered == 1 {
			batches, them = "batch", "it"
		}
		msg := fmt.Sprintf("consumer stopped with %d %s undelivered: not checkpointed, the group delivers %s again", s.Undelivered, batches, them)
		log.LogAttrs(context.Background(), slog.LevelWarn, msg, append(attrs, slog.String("outcome", "stopped"))...)
		return
	}
	ship.LogOutcome(context.Background(), log, "consumer stopped", "consumer stopped with an error", attrs, err)
}
