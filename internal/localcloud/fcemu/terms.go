package fcemu

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Terms are the parts of FC's contract where the emulator could be kinder
// than FC 3.0 documents. The zero value is FC 3.0's documented terms (the
// default the whole suite and `make run` use): documented headers only,
// hooks only as configured, instances frozen between invocations, the
// documented environment and its limits. [KindTerms] returns the
// emulator's former kind defaults, kept for the tests that compare. Each
// field cites the page it follows (docs/local-cloud.md has the table).
type Terms struct {
	// Headers selects the x-fc-* headers of a custom-runtime request. The
	// go1 runtime API always carries x-fc-function-deadline,
	// x-fc-function-timeout and x-fc-function-type: fc-runtime-go-sdk
	// drops an invocation without them, so FC's go1 runtime sends them.
	Headers HeaderSet

	// Hooks selects which lifecycle hooks are called.
	Hooks HookPolicy

	// Freeze is how the instance is frozen between invocations.
	Freeze Freeze

	// KindEnv gives the function FC_SERVER_PORT besides the documented
	// FC_CUSTOM_LISTEN_PORT and holds Config.Env to no limit. Without it
	// (the documented terms) the function gets only the system variables
	// FC 3.0 documents and Config.Env is held to FC's limits: 4 KB for all
	// variables together, keys that start with a letter and hold only
	// letters, digits and underscores, none with the reserved FC_ prefix
	// (Configure environment variables,
	// https://www.alibabacloud.com/help/en/functioncompute/fc/environment-variables).
	KindEnv bool
}

// HeaderSet selects the x-fc-* headers of a custom-runtime request.
type HeaderSet int

const (
	// HeadersDocumented (the default) sends only the common request
	// headers of FC 3.0's custom runtime (Context and log format,
	// https://www.alibabacloud.com/help/en/functioncompute/fc-3-0/user-guide/context-and-log-format-1):
	// x-fc-request-id, x-fc-access-key-id, x-fc-access-key-secret,
	// x-fc-security-token, x-fc-function-handler, x-fc-function-memory,
	// x-fc-region, x-fc-account-id, x-fc-qualifier, x-fc-version-id,
	// x-fc-function-name, x-fc-service-logproject, x-fc-service-logstore
	// and x-fc-control-path. Headers a caller passes to InvokeWithHeaders
	// outside this set are dropped too.
	HeadersDocumented HeaderSet = iota
	// HeadersCaptured is HeadersDocumented plus x-fc-function-deadline and
	// x-fc-function-timeout, which a real capture shows FC sending although
	// its table does not list them.
	HeadersCaptured
	// HeadersKind sends FC 3.0's documented headers plus
	// x-fc-function-deadline (epoch ms), x-fc-function-timeout,
	// x-fc-function-type and x-fc-retry-count on every call.
	HeadersKind
)

// documentedHeaders are FC 3.0's common request headers (HeadersDocumented).
var documentedHeaders = map[string]bool{
	"X-Fc-Request-Id": true, "X-Fc-Access-Key-Id": true, "X-Fc-Access-Key-Secret": true,
	"X-Fc-Security-Token": true, "X-Fc-Function-Handler": true, "X-Fc-Function-Memory": true,
	"X-Fc-Region": true, "X-Fc-Account-Id": true, "X-Fc-Qualifier": true, "X-Fc-Version-Id": true,
	"X-Fc-Function-Name": true, "X-Fc-Service-Logproject": true, "X-Fc-Service-Logstore": true,
	"X-Fc-Control-Path": true,
}

// capturedHeaders are the headers HeadersCaptured adds.
var capturedHeaders = map[string]bool{"X-Fc-Function-Deadline": true, "X-Fc-Function-Timeout": true}

// allows reports whether the set lets the emulator send header k (in
// canonical form) to a custom runtime.
func (s HeaderSet) allows(k string) bool {
	switch s {
	case HeadersDocumented:
		return documentedHeaders[k]
	case HeadersCaptured:
		return documentedHeaders[k] || capturedHeaders[k]
	}
	return true
}

// HookPolicy selects which lifecycle hooks the emulator calls.
type HookPolicy int

const (
	// HooksConfigured (the default) calls only the hooks Config.Lifecycle
	// configures, as FC does (Lifecycle hooks for function instances,
	// https://alibabacloud.com/help/en/functioncompute/fc-3-0/user-guide/lifecycle-hooks-for-function-instances-6-1):
	// the initializer (POST /initialize) after a start, before any
	// invocation; pre-stop (GET /pre-stop) before the instance is stopped.
	// FC 3.0 has no pre-freeze hook, so PreFreeze calls nothing. A
	// configured hook that fails or is missing (any non-2xx answer) fails,
	// and a failed initializer fails the start.
	HooksConfigured HookPolicy = iota
	// HooksAll calls the initializer after each start, the pre-stop hook
	// on Stop and the pre-freeze hook on PreFreeze, whether or not the
	// function configures them, and ignores a hook the function does not
	// implement.
	HooksAll
)

// Freeze is how the emulator freezes the instance between invocations, as
// FC does by default: once no call is in flight the process group gets
// SIGSTOP, and SIGCONT before the next call. Connections to the function's
// HTTP server stay open while it is frozen, and are reused after, as FC's
// are, and an invocation is sent once (never resent on a fresh
// connection): a server that closes idle connections before FC does (FC
// requires 15 minutes or more: "Process exited unexpectedly before
// completing request", https://www.alibabacloud.com/help/doc-detail/209248.htm)
// fails the next invocation.
type Freeze struct {
	// Off never freezes the instance (the kind terms).
	Off bool
	// Hold keeps an instance frozen at least this long: the next call
	// waits for it, as if FC had no invocation for it meanwhile. With a
	// Hold longer than the function server's idle timeout, the server has
	// closed the kept-alive connection when the next invocation comes.
	Hold time.Duration
}

// Lifecycle is a function's instanceLifecycleConfig as s.yaml (fc3) writes
// it: FC 3.0 has an initializer and a pre-stop hook (fc3-schema.json
// ILifecycleHook: handler, timeout).
type Lifecycle struct {
	Initializer *Hook
	PreStop     *Hook
}

// Hook is one configured lifecycle hook.
type Hook struct {
	// Handler is the s.yaml handler; a custom runtime's is meaningless.
	Handler string
	// Timeout bounds the hook (0: the function's Timeout).
	Timeout time.Duration
}

// StrictTerms returns FC 3.0's documented terms: the zero Terms.
func StrictTerms() Terms { return Terms{} }

// KindTerms returns the emulator's former kind defaults: the deadline,
// timeout, type and retry headers on every call, every hook called
// whether configured or not, no freezing, FC_SERVER_PORT and no limit on
// the environment.
func KindTerms() Terms {
	return Terms{Headers: HeadersKind, Hooks: HooksAll, Freeze: Freeze{Off: true}, KindEnv: true}
}

func (t Terms) validate() error {
	if t.Headers < HeadersDocumented || t.Headers > HeadersKind {
		return fmt.Errorf("fcemu: unknown header set %d", t.Headers)
	}
	if t.Hooks < HooksConfigured || t.Hooks > HooksAll {
		return fmt.Errorf("fcemu: unknown hook policy %d", t.Hooks)
	}
	return nil
}

// maxEnvBytes is FC's limit on all environment variables together.
const maxEnvBytes = 4 << 10

// CheckEnv holds env ("KEY=value" entries) to FC's limits on environment
// variables: keys start with a letter and hold letters, digits and
// underscores; FC_ is reserved; keys and values together take at most
// 4 KB. The error names what is wrong, never a value. Start applies it to
// Config.Env unless the terms are kind.
func CheckEnv(env []string) error {
	total := 0
	for _, kv := range env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return fmt.Errorf("fcemu: environment entry %q has no '='", k)
		}
		if !validEnvKey(k) {
			return fmt.Errorf("fcemu: environment variable name %q: FC wants a letter first, then letters, digits and underscores", k)
		}
		if strings.HasPrefix(k, "FC_") {
			return fmt.Errorf("fcemu: environment variable %s: the FC_ prefix is reserved by Function Compute", k)
		}
		total += len(k) + len(v)
	}
	if total > maxEnvBytes {
		return fmt.Errorf("fcemu: the environment variables take %d bytes (names and values); Function Compute allows 4 KB (%d bytes) in total", total, maxEnvBytes)
	}
	return nil
}

func validEnvKey(k string) bool {
	if k == "" || !isLetter(k[0]) {
		return false
	}
	for i := 1; i < len(k); i++ {
		if c := k[i]; !isLetter(c) && !(c >= '0' && c <= '9') && c != '_' {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// hook returns the configured hook of type typ, or nil.
func (l Lifecycle) hook(typ funcType) *Hook {
	switch typ {
	case typeInitializer:
		return l.Initializer
	case typePreStop:
		return l.PreStop
	}
	return nil
}

// filter drops from h the headers the set does not allow.
func (s HeaderSet) filter(h http.Header) {
	for k := range h {
		if !s.allows(http.CanonicalHeaderKey(k)) {
			delete(h, k)
		}
	}
}
