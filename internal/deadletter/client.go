package deadletter

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"

	"sls2siem/internal/logstore"
	"sls2siem/internal/secret"
)

// Client makes SDK calls to one admitted SLS endpoint through the
// instance's SLS transport (which enforces SLS_ALLOWED_ENDPOINTS and
// bounds answers), each bounded by its context.
type Client struct {
	Transport *logstore.Transport
	Endpoint  string // admitted, scheme://host[:port]
	Creds     secret.Credentials
}

// Bounds of one call within its context's deadline.
const (
	requestTimeout = 30 * time.Second
	retryWindow    = 20 * time.Second
)

// sdk returns an SDK client whose requests carry ctx (its deadline and
// cancellation): the SDK takes no context of its own.
func (c Client) sdk(ctx context.Context) (*sls.Client, error) {
	if c.Transport == nil {
		return nil, errors.New("deadletter: no SLS transport")
	}
	timeout, retry := requestTimeout, retryWindow
	if dl, ok := ctx.Deadline(); ok {
		left := time.Until(dl)
		if left <= 0 {
			return nil, context.DeadlineExceeded
		}
		timeout, retry = min(timeout, left), min(retry, left)
	}
	cl := &sls.Client{
		Endpoint:       c.Endpoint,
		UserAgent:      "sls2siem",
		RequestTimeOut: timeout,
		RetryTimeOut:   retry,
		HTTPClient:     &http.Client{Transport: ctxTransport{ctx: ctx, base: c.Transport}, Timeout: timeout},
	}
	return cl.WithCredentialsProvider(sls.NewStaticCredentialsProvider(c.Creds.AccessKeyID, c.Creds.AccessKeySecret, c.Creds.SecurityToken)), nil
}

type ctxTransport struct {
	ctx  context.Context
	base http.RoundTripper
}

func (t ctxTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return t.base.RoundTrip(r.WithContext(t.ctx))
}

// call runs f with an SDK client bound to ctx and describes its error.
func (c Client) call(ctx context.Context, what string, f func(*sls.Client) error) error {
	cl, err := c.sdk(ctx)
	if err == nil {
		err = f(cl)
	}
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", what, ctx.Err())
		}
		return logstore.DescribeError(what, err)
	}
	return nil
}

// Shards lists the shard ids of project/logstore.
func (c Client) Shards(ctx context.Context, project, logstore string) ([]int, error) {
	var ids []int
	err := c.call(ctx, fmt.Sprintf("list the shards of project %s logstore %s", project, logstore), func(cl *sls.Client) error {
		shards, err := cl.ListShards(project, logstore)
		for _, s := range shards {
			ids = append(ids, s.ShardID)
		}
		return err
	})
	return ids, err
}

// Cursor is GetCursor: from is "begin", "end" or a unix time in seconds.
func (c Client) Cursor(ctx context.Context, project, logstore string, shard int, from string) (string, error) {
	var cur string
	err := c.call(ctx, fmt.Sprintf("get the %s cursor of project %s logstore %s shard %d", from, project, logstore, shard), func(cl *sls.Client) error {
		var err error
		cur, err = cl.GetCursor(project, logstore, shard, from)
		return err
	})
	return cur, err
}

// SDK runs f with an SDK client bound to ctx (for the consumer-group
// checkpoint calls of redrive); the error names what.
func (c Client) SDK(ctx context.Context, what string, f func(*sls.Client) error) error {
	return c.call(ctx, what, f)
}
