package consume

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	sls "github.com/aliyun/aliyun-log-go-sdk"
	"github.com/gogo/protobuf/proto"

	"sls2siem/internal/relp"
	"sls2siem/internal/transport"
)

// TestFailureKindOfRealErrors classifies what ship.Session really returns
// when nothing listens (connect) and when the receiver closes the
// connection at once (confirm), and the texts of the other kinds.
func TestFailureKindOfRealErrors(t *testing.T) {
	groups := []*sls.LogGroup{{Logs: []*sls.Log{{Time: proto.Uint32(1700000000), Contents: []*sls.LogContent{
		{Key: proto.String("k"), Value: proto.String("v")}}}}}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	sess := newShipper(t, "http://127.0.0.1:1", closed).NewSession()
	_, err = sess.Write(ctx, groups)
	if got := FailureKind(err); got != FailRefused {
		t.Errorf("nothing listening: %v classified %q, want refused", err, got)
	}

	ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	sess = newShipper(t, "http://127.0.0.1:1", ln.Addr().String()).NewSession()
	defer sess.Reset()
	if _, err = sess.Write(ctx, groups); err == nil {
		err = sess.Confirm(ctx)
	}
	if got := FailureKind(err); got != FailConfirm {
		t.Errorf("receiver closing at once: %v classified %q, want confirm", err, got)
	}

	// The kind is the *transport.SendError's, found through wrapping;
	// text that merely reads like a transport error is not one.
	for err, want := range map[error]string{
		nil: "",
		fmt.Errorf("deliver shard 3: %w", &transport.SendError{Kind: transport.KindAck, Op: "send", Err: relp.ErrRefused}):      FailAck,
		fmt.Errorf("deliver shard 3: %w", &transport.SendError{Kind: transport.KindTimeout, Op: "flush", Err: errors.New("x")}): FailTimeout,
		errors.New("send to syslog receiver 10.0.0.1:514 over tcp: broken pipe"):                                                FailOther,
		fmt.Errorf("send to syslog receiver 10.0.0.1:2514 over relp: %w", relp.ErrRefused):                                      FailOther,
		errors.New("something else"): FailOther,
	} {
		if got := FailureKind(err); got != want {
			t.Errorf("FailureKind(%v) = %q, want %q", err, got, want)
		}
	}
}
