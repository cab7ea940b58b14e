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
	if got := FailureKind(err); got != FailConnect {
		t.Errorf("nothing listening: %v classified %q, want connect", err, got)
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

	for err, want := range map[error]string{
		nil: "",
		errors.New("send to syslog receiver 10.0.0.1:514 over tcp: broken pipe"):                                      FailWrite,
		errors.New("flush to syslog receiver 10.0.0.1:514 over tls: i/o timeout"):                                     FailWrite,
		errors.New("confirm delivery to syslog receiver 10.0.0.1:514 over tcp: 12 bytes still unacknowledged"):        FailConfirm,
		fmt.Errorf("send to syslog receiver 10.0.0.1:2514 over relp: %w", errors.New("refused by the RELP receiver")): FailAck,
		errors.New("connect to syslog receiver 10.0.0.1:2514 over relp: RELP open refused"):                           FailConnect,
		errors.New("something else"): FailOther,
	} {
		if got := FailureKind(err); got != want {
			t.Errorf("FailureKind(%v) = %q, want %q", err, got, want)
		}
	}
}
