// Command testfn is the function the fcemu tests run. It speaks the go1
// contract when FC_RUNTIME_API is set and the custom runtime contract when
// FC_SERVER_PORT is set. The event {"op": ...} selects what it does.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"
	"strconv"
	"sync"
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
}

func main() {
	hooks := os.Getenv("TESTFN_HOOKS") != "0"
	switch {
	case os.Getenv("FC_RUNTIME_API") != "":
		runGo1(hooks)
	case os.Getenv("FC_SERVER_PORT") != "":
		runCustom(hooks)
	default:
		log.Fatal("testfn: neither FC_RUNTIME_API nor FC_SERVER_PORT is set")
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
		ctx := r.Context()
		if ms, err := strconv.ParseInt(h.Get("x-fc-function-deadline"), 10, 64); err == nil {
			d := time.UnixMilli(ms)
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
	log.Fatal(http.ListenAndServe(":"+os.Getenv("FC_SERVER_PORT"), mux))
}

// run performs ev.Op.
func run(ctx context.Context, ev event, in info) (any, error) {
	switch ev.Op {
	case "echo":
		return map[string]string{"echo": ev.Msg}, nil
	case "error":
		return nil, errors.New(ev.Msg)
	case "info":
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
