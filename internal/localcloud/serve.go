package localcloud

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"sls2siem/internal/localcloud/sample"
	"sls2siem/internal/localcloud/slsemu"
)

// DeadLetterLogstore is the dead-letter logstore the served local cloud
// creates (empty) next to the sample logstore.
const DeadLetterLogstore = "sls2siem-deadletter"

// ServeOptions configure the local cloud as a service.
type ServeOptions struct {
	DataDir   string    // sample logstore directory (testdata/logstore)
	Addr      string    // where the SLS emulator listens, e.g. 127.0.0.1:18080
	EventsDir string    // one trigger event per shard is written here
	Out       io.Writer // the shell-sourceable lines
}

// Serve starts the SLS emulator on opts.Addr with the sample logstore
// loaded and an empty dead-letter logstore, writes one trigger event per
// shard covering the whole shard into opts.EventsDir (shard-N.json),
// prints the export lines every sls2siem command needs, and serves until
// ctx is done.
func Serve(ctx context.Context, opts ServeOptions) error {
	data, err := sample.Load(opts.DataDir)
	if err != nil {
		return fmt.Errorf("local cloud: %w", err)
	}
	user := slsemu.Credential{AccessKeyID: randomID("LTAIlocal", 8), AccessKeySecret: randomID("", 24)}
	emu := slsemu.New()
	emu.AddCredential(user)
	endpoint, err := emu.Start(opts.Addr)
	if err != nil {
		return fmt.Errorf("local cloud: start the SLS emulator: %w", err)
	}
	defer emu.Close()
	if err := emu.CreateLogstore(data.Project, data.Logstore, len(data.Shards)); err != nil {
		return fmt.Errorf("local cloud: %w", err)
	}
	if err := emu.CreateLogstore(data.Project, DeadLetterLogstore, 2); err != nil {
		return fmt.Errorf("local cloud: %w", err)
	}
	// The sample is received now: its receive-time window, for backfill,
	// is the seconds the loading took.
	from := time.Now().Truncate(time.Second)
	if err := sample.Put(ctx, NewSLSClient(endpoint, user), data); err != nil {
		return fmt.Errorf("local cloud: load the sample logstore: %w", err)
	}
	to := time.Now().Truncate(time.Second).Add(time.Second)
	if err := os.MkdirAll(opts.EventsDir, 0o755); err != nil {
		return fmt.Errorf("local cloud: %w", err)
	}
	for shard := range data.Shards {
		begin, err1 := emu.Cursor(data.Project, data.Logstore, shard, "begin")
		end, err2 := emu.Cursor(data.Project, data.Logstore, shard, "end")
		if err1 != nil || err2 != nil {
			return fmt.Errorf("local cloud: cursors of shard %d: %v %v", shard, err1, err2)
		}
		ev, _ := json.Marshal(map[string]any{
			"cursorTime": 0, "jobName": "localcloud", "taskId": "localcloud-" + strconv.Itoa(shard), "parameter": map[string]any{},
			"source": map[string]any{"projectName": data.Project, "logstoreName": data.Logstore, "endpoint": endpoint,
				"shardId": shard, "beginCursor": begin, "endCursor": end},
		})
		if err := os.WriteFile(filepath.Join(opts.EventsDir, fmt.Sprintf("shard-%d.json", shard)), append(ev, '\n'), 0o644); err != nil {
			return fmt.Errorf("local cloud: %w", err)
		}
	}
	vars := []string{
		"SLS_ENDPOINT=" + endpoint, "SLS_PROJECT=" + data.Project, "SLS_LOGSTORE=" + data.Logstore,
		"SHIP_DEADLETTER_LOGSTORE=" + DeadLetterLogstore, "SHIP_DEADLETTER_KEY=" + newDeadLetterKey(),
		"SHIP_REDRIVE_LOGSTORES=" + data.Logstore,
		"ALIBABA_CLOUD_ACCESS_KEY_ID=" + user.AccessKeyID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET=" + user.AccessKeySecret,
		"SLS_CURSOR_POSITION=begin",
	}
	vars = append(vars, TrustEnv(endpoint)...)
	fmt.Fprintf(opts.Out, "# local cloud: SLS emulator at %s, project %s, logstores %s (%d shards, %d logs) and %s (empty);\n",
		endpoint, data.Project, data.Logstore, len(data.Shards), data.LogCount(), DeadLetterLogstore)
	fmt.Fprintf(opts.Out, "# trigger events in %s/shard-N.json; the sample's receive-time window (sls2siem backfill): -from %s -to %s.\n",
		opts.EventsDir, from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339))
	fmt.Fprintf(opts.Out, "# Source these lines; Ctrl-C stops the local cloud.\n")
	fmt.Fprintf(opts.Out, "export %s\n", strings.Join(vars, " "))
	<-ctx.Done()
	return nil
}
