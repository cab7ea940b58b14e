// Command testfn is the function the fcemu tests run. It speaks the go1
// contract when FC_RUNTIME_API is set and the custom runtime contract when
// FC_CUSTOM_LISTEN_PORT (FC 3.0's documented variable) or FC_SERVER_PORT is
// set. The event {"op": ...} selects what it does.
//
// TESTFN_IDLE_TIMEOUT (a Go duration) makes its custom-runtime server close
// a connection idle for longer when a request arrives on it, as a server
// whose idle timeout expired while the instance was frozen does.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/fc"
	"github.com/aliyun/fc-runtime-go-sdk/fccontext"
)

type event struct {
	Op   string `json:"op"`
	Msg  string `json:"msg"`
	N    int    `json:"n"`
	Code int    `json:"code"`
}

// info is what the runtime told the function about one invocation.
type info struct {
	RequestID    string `json:"requestId"`
	KeyID        string `json:"keyId"`
	SecretSHA256 string `json:"secretSha256"`
	TokenSHA256  string `json:"tokenSha256"`
	RemainingMS  int64  `json:"remainingMs"`
	Timeout      int    `json:"timeout"`
	FunctionName string `json:"functionName"`
	Memory       string `json:"memory"`
	Region       string `json:"region"`
	AccountID    string `json:"accountId"`
	RetryCount   int    `json:"retryCount"`
	EnvKeyID     string `json:"envKeyId"`
	EnvFunction  string `json:"envFunction"`
	EnvExtra     string `json:"envExtra"`
	EnvHasSecret bool   `json:"envHasSecret"`
	// Headers are the names of the x-fc-* headers of the request (custom
	// runtime), sorted.
	Headers []string `json:"headers,omitempty"`
	// HasDeadline: the invocation came with a deadline.
	HasDeadline bool `json:"hasDeadline"`
	// EnvPorts are the port variables set, as NAME=value, sorted.
	EnvPorts []string `json:"envPorts,omitempty"`
}

func main() {
	hooks := os.Getenv("TESTFN_HOOKS") != "0"
	if os.Getenv("TESTFN_LOG_TERM") == "1" {
		// Tells that SIGTERM reached a running (not frozen) process.
		term := make(chan os.Signal, 1)
		signal.Notify(term, syscall.SIGTERM)
		go func() {
			<-term
			fmt.Println("TERM received")
			os.Exit(0)
		}()
	}
	switch {
	case os.Getenv("FC_RUNTIME_API") != "":
		runGo1(hooks)
	case listenPort() != "":
		runCustom(hooks)
	default:
		log.Fatal("testfn: none of FC_RUNTIME_API, FC_CUSTOM_LISTEN_PORT and FC_SERVER_PORT is set")
	}
}

func runGo1(hooks bool) {
	if hooks {
		fc.RegisterInitializerFunction(func(ctx context.Context) {
			if os.Getenv("TESTFN_INIT_FAIL") == "1" {
				panic("initializer failed on purpose")
			}
			fmt.Println("HOOK initializer")
		})
		fc.RegisterPreFreezeFunction(func(ctx context.Context) { fmt.Println("HOOK prefreeze") })
		fc.RegisterPreStopFunction(func(ctx context.Context) {
			lc, _ := fccontext.FromContext(ctx)
			fmt.Println("HOOK prestop " + lc.RequestID)
		})
	}
	fc.Start(func(ctx context.Context, ev event) (any, error) {
		fctx, _ := fccontext.FromContext(ctx)
		in := info{
			RequestID:    fctx.RequestID,
			KeyID:        fctx.Credentials.AccessKeyId,
			SecretSHA256: sha(fctx.Credentials.AccessKeySecret),
			TokenSHA256:  sha(fctx.Credentials.SecurityToken),
			Timeout:      fctx.Function.Timeout,
			FunctionName: fctx.Function.Name,
			Memory:       fctx.Function.Memory,
			Region:       fctx.Region,
			AccountID:    fctx.AccountId,
			RetryCount:   fctx.RetryCount,
		}
		if d, ok := ctx.Deadline(); ok {
			in.RemainingMS = time.Until(d).Milliseconds()
			in.HasDeadline = true
		}
		if ev.Op == "panic" {
			panic(ev.Msg)
		}
		return run(ctx, ev, in)
	})
}

func runCustom(hooks bool) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /invoke", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("x-fc-control-path") != "/invoke" {
			http.Error(w, "bad control path", http.StatusBadRequest)
			return
		}
		var ev event
		if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		h := r.Header
		in := info{
			RequestID:    h.Get("x-fc-request-id"),
			KeyID:        h.Get("x-fc-access-key-id"),
			SecretSHA256: sha(h.Get("x-fc-access-key-secret")),
			TokenSHA256:  sha(h.Get("x-fc-security-token")),
			FunctionName: h.Get("x-fc-function-name"),
			Memory:       h.Get("x-fc-function-memory"),
			Region:       h.Get("x-fc-region"),
			AccountID:    h.Get("x-fc-account-id"),
		}
		in.Timeout, _ = strconv.Atoi(h.Get("x-fc-function-timeout"))
		in.RetryCount, _ = strconv.Atoi(h.Get("x-fc-retry-count"))
		for k := range h {
			if strings.HasPrefix(strings.ToLower(k), "x-fc-") {
				in.Headers = append(in.Headers, strings.ToLower(k))
			}
		}
		sort.Strings(in.Headers)
		ctx := r.Context()
		if ms, err := strconv.ParseInt(h.Get("x-fc-function-deadline"), 10, 64); err == nil {
			d := time.UnixMilli(ms)
			in.HasDeadline = true
			in.RemainingMS = time.Until(d).Milliseconds()
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, d)
			defer cancel()
		}
		if ev.Op == "panic" { // an unstructured failure: plain text, no x-fc-status
			http.Error(w, ev.Msg, http.StatusInternalServerError)
			return
		}
		out, err := run(ctx, ev, in)
		if err != nil {
			w.Header().Set("x-fc-status", "404")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			json.NewEncoder(w).Encode(map[string]string{"errorMessage": err.Error(), "errorType": "TestError"})
			return
		}
		json.NewEncoder(w).Encode(out)
	})
	if hooks {
		mux.HandleFunc("POST /initialize", func(w http.ResponseWriter, r *http.Request) {
			if os.Getenv("TESTFN_INIT_FAIL") == "1" {
				http.Error(w, "initializer failed on purpose", http.StatusInternalServerError)
				return
			}
			fmt.Println("HOOK initializer")
		})
		mux.HandleFunc("GET /pre-freeze", func(w http.ResponseWriter, r *http.Request) {
			fmt.Println("HOOK prefreeze")
		})
		mux.HandleFunc("GET /pre-stop", func(w http.ResponseWriter, r *http.Request) {
			fmt.Println("HOOK prestop " + r.Header.Get("x-fc-request-id"))
		})
	}
	srv := &http.Server{Addr: ":" + listenPort(), Handler: mux}
	if d, err := time.ParseDuration(os.Getenv("TESTFN_IDLE_TIMEOUT")); err == nil {
		closeIdleAfter(srv, d)
	}
	log.Fatal(srv.ListenAndServe())
}

// listenPort is the custom runtime's port: FC_CUSTOM_LISTEN_PORT, else
// FC_SERVER_PORT.
func listenPort() string {
	if p := os.Getenv("FC_CUSTOM_LISTEN_PORT"); p != "" {
		return p
	}
	return os.Getenv("FC_SERVER_PORT")
}

// closeIdleAfter makes srv close a connection when a request arrives on it
// more than d after the previous request's handler returned (which is
// before the client has the answer, so before FC can freeze the
// instance).
func closeIdleAfter(srv *http.Server, d time.Duration) {
	type connKey struct{}
	var mu sync.Mutex
	idleSince := map[net.Conn]time.Time{}
	srv.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		return context.WithValue(ctx, connKey{}, c)
	}
	next := srv.Handler
	srv.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r)
		if c, ok := r.Context().Value(connKey{}).(net.Conn); ok {
			mu.Lock()
			idleSince[c] = time.Now()
			mu.Unlock()
		}
	})
	srv.ConnState = func(c net.Conn, st http.ConnState) {
		mu.Lock()
		defer mu.Unlock()
		switch st {
		case http.StateActive:
			if t, ok := idleSince[c]; ok && time.Since(t) > d {
				fmt.Printf("closing a connection idle for %v\n", time.Since(t).Round(time.Millisecond))
				c.Close()
			}
		case http.StateClosed, http.StateHijacked:
			delete(idleSince, c)
		}
	}
}

// run performs ev.Op.
func run(ctx context.Context, ev event, in info) (any, error) {
	switch ev.Op {
	case "echo":
		return map[string]string{"echo": ev.Msg}, nil
	case "error":
		return nil, errors.New(ev.Msg)
	case "info":
		for _, k := range []string{"FC_CUSTOM_LISTEN_PORT", "FC_SERVER_PORT"} {
			if v, ok := os.LookupEnv(k); ok {
				in.EnvPorts = append(in.EnvPorts, k+"="+v)
			}
		}
		in.EnvKeyID = os.Getenv("ALIBABA_CLOUD_ACCESS_KEY_ID")
		in.EnvHasSecret = os.Getenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET") != ""
		in.EnvFunction = os.Getenv("FC_FUNCTION_NAME")
		in.EnvExtra = os.Getenv("TESTFN_EXTRA")
		// Log what a careless function might log, minus the secrets.
		fmt.Printf("info request=%s key=%s\n", in.RequestID, in.KeyID)
		return in, nil
	case "hang":
		fmt.Println("hanging " + in.RequestID)
		select {} // ignores its deadline on purpose
	case "exit":
		os.Exit(ev.Code)
	case "barrier":
		return barrier(ctx, ev.N)
	case "gauge":
		return gauge(), nil
	}
	return nil, fmt.Errorf("unknown op %q", ev.Op)
}

var (
	mu      sync.Mutex
	cond    = sync.NewCond(&mu)
	arrived int
	active  int
	peak    int
)

// barrier returns once n calls are inside it at the same time, or fails at
// the deadline.
func barrier(ctx context.Context, n int) (any, error) {
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		cond.Broadcast()
		mu.Unlock()
	})
	defer stop()
	mu.Lock()
	defer mu.Unlock()
	arrived++
	cond.Broadcast()
	for arrived < n && ctx.Err() == nil {
		cond.Wait()
	}
	if arrived < n {
		return nil, fmt.Errorf("barrier: only %d of %d calls arrived", arrived, n)
	}
	return map[string]int{"arrived": arrived}, nil
}

// gauge records how many calls are inside it at once and returns the peak.
func gauge() map[string]int {
	mu.Lock()
	active++
	peak = max(peak, active)
	mu.Unlock()
	time.Sleep(20 * time.Millisecond) // stay inside long enough to overlap
	mu.Lock()
	defer mu.Unlock()
	active--
	return map[string]int{"peak": peak}
}

func sha(s string) string {
	if s == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
