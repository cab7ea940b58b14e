// Package fcemu runs a real, built Function Compute (FC) function binary as
// a child process and hands it invocations the way FC 3.0 does.
//
// Two contracts are supported:
//
//   - [ContractGo1]: the go1 runtime. The emulator serves the FC runtime API
//     (GET /2020-11-11/runtime/invocation/next, POST .../{id}/response and
//     .../{id}/error) on 127.0.0.1 and passes its address to the function in
//     FC_RUNTIME_API, which is what fc-runtime-go-sdk's fc.Start expects.
//     Lifecycle hooks (initializer, pre-freeze, pre-stop) travel through the
//     same next call with x-fc-function-type 1, 3 and 2.
//   - [ContractCustom]: the FC 3.0 custom runtime. The function is an HTTP
//     server listening on FC_CUSTOM_LISTEN_PORT (also FC_SERVER_PORT under
//     [Terms.KindEnv]); events are POSTed to /invoke and lifecycle hooks go
//     to POST /initialize and GET /pre-stop (GET /pre-freeze under
//     [HooksAll]).
//
// # Terms
//
// By default the emulator holds the function to FC 3.0's documented
// contract: only the documented request headers ([HeadersDocumented]; a
// switch, [HeadersCaptured], adds the deadline and timeout headers a real
// capture shows), hooks only as [Config.Lifecycle] configures them
// ([HooksConfigured]), instances frozen (SIGSTOP) between invocations, for
// at least [Freeze.Hold], and the documented environment with FC's 4 KB
// limit ([CheckEnv]). [Config.Terms] can make it kinder, field by field;
// [KindTerms] is the former kind defaults. terms.go cites the page behind
// each.
//
// The child gets a minimal environment: PATH, HOME, TZ (if set in the
// parent), the FC_* variables FC sets, the ALIBABA_CLOUD_ACCESS_KEY_ID,
// ALIBABA_CLOUD_ACCESS_KEY_SECRET and ALIBABA_CLOUD_SECURITY_TOKEN variables
// FC sets from the function role (only when credentials are configured), and
// [Config.Env]. Every invocation also carries the credentials in the
// x-fc-access-key-id, x-fc-access-key-secret and x-fc-security-token headers.
//
// # Concurrency
//
// At most [Config.InstanceConcurrency] invocations are in flight at once;
// further calls to [Instance.Invoke] wait for a free slot. Lifecycle calls do
// not take a slot. An invocation abandoned by its caller (context cancelled
// after the function got it) keeps its slot until the function answers, times
// out, or the process exits.
//
// # Timeouts and failures
//
// The function timeout starts when the function receives the invocation
// (cold-start time is not counted, as in FC). When it passes without an
// answer, the invocation's [Result.Err] has Type "FunctionTimeout", the
// process is killed, and the next invocation starts a fresh process. Other
// invocations in flight on the killed process fail with an infrastructure
// error (an error wrapping [ErrProcessExited]), not with FunctionTimeout:
// their own deadline had not passed.
//
// When the process exits unexpectedly, invocations in flight fail with an
// error wrapping [ErrProcessExited] that names the exit status, and the next
// Invoke restarts the process. An invocation that was queued but not yet
// handed to the function when its process exited is retried once on a fresh
// process, since the function never saw it.
//
// Only configured hooks are called, and any failure counts. Under
// [HooksAll] every hook is called, best effort: a hook the function does
// not implement (go1: the SDK's "no ... handler registered" error; custom:
// HTTP 404, 405 or 501 without x-fc-status) is ignored. A failing
// initializer fails [Start] (and the restart in [Instance.Invoke]), as in
// FC.
//
// A custom runtime whose server closed a connection the emulator kept
// alive (across a freeze) fails the invocation with an
// UnhandledInvocationError, as FC reports "Process exited unexpectedly
// before completing request".
package fcemu
