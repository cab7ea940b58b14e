package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"sls2siem/internal/slsapi"
)

// What sls2siem without a command serves under FC (SHIP_FUNCTION): the
// go1 runtime starts the handler without arguments, so the function says
// it in its environment.
const (
	// FunctionShip is the trigger and consumer-group functions (serve).
	FunctionShip = "ship"
	// FunctionRedrive is the redrive function (redrive -serve).
	FunctionRedrive = "redrive"
)

// FC is what the function reads about itself under Function Compute.
type FC struct {
	// Function is what sls2siem without a command serves (SHIP_FUNCTION):
	// FunctionShip or FunctionRedrive.
	Function string
	// Timeout is the function's timeout as s.yaml configures it
	// (SHIP_FUNCTION_TIMEOUT), 0 if unknown: an invocation's deadline is at
	// most its arrival plus Timeout, whatever FC's headers say or omit.
	Timeout time.Duration
}

// maxFunctionTimeout is FC's largest timeout (fc3 schema: 1–86400 s).
const maxFunctionTimeout = 86400 * time.Second

// functionTimeout reads a timeout as s.yaml's timeout writes it (whole
// seconds) or as a duration (300s, 10m).
func functionTimeout(v string) (any, error) {
	d, err := time.ParseDuration(v)
	if n, nerr := strconv.Atoi(v); nerr == nil {
		d, err = time.Duration(n)*time.Second, nil
	}
	if err != nil || d < time.Second || d > maxFunctionTimeout {
		return nil, fmt.Errorf("want the function's timeout, 1 to 86400 seconds (FC's range), such as 300 or 300s")
	}
	return d, nil
}

// region reads a region ID.
func region(v string) (any, error) { return v, slsapi.CheckRegion(v) }

// signing reads SLS_SIGNATURE_VERSION and SLS_REGION. A v4 signature for SLS_ENDPOINT needs a region: that is checked
// once the endpoint is known (checkSigning).
func (l *loader) signing() slsapi.Signing {
	var s slsapi.Signing
	if v, ok := l.get(VarSLSSignatureVersion); ok {
		s.Version = v.(string)
	}
	if v, ok := l.get(VarSLSRegion); ok {
		s.Region = v.(string)
	}
	return s
}

// checkSigning reports a signature that cannot be made for the endpoint.
func (l *loader) checkSigning(s slsapi.Signing, endpoint string) {
	if endpoint == "" {
		return
	}
	if _, _, err := s.For(endpoint); err != nil {
		l.fail(VarSLSSignatureVersion, "is %s, but the region of %s %s is unknown: set %s (e.g. cn-hangzhou)", s.Version, VarSLSEndpoint, endpoint, VarSLSRegion)
	}
}

// fc reads the function's own variables.
func (l *loader) fc() FC {
	var f FC
	v, _ := l.get(VarShipFunction)
	f.Function = v.(string)
	if v, ok := l.get(VarShipFunctionTimeout); ok {
		f.Timeout = v.(time.Duration)
	}
	return f
}

// FunctionOf returns what sls2siem without a command serves under FC
// (SHIP_FUNCTION): FunctionShip or FunctionRedrive. Its error is Errors.
func FunctionOf(getenv func(string) string) (string, error) {
	l := &loader{getenv: getenv, use: UseFC}
	v, _ := l.get(VarShipFunction)
	return v.(string), l.err()
}

// MaxFCEnv is FC's limit on a function's environment variables, names
// and values together: "The total size of all environment variables
// cannot exceed 4 KB" (Configure environment variables,
// https://www.alibabacloud.com/help/en/functioncompute/fc/environment-variables).
const MaxFCEnv = 4 << 10

// functions are the uses of the functions s.yaml deploys: the trigger
// function, the consumer-group function (the same server, for timer
// events too) and the redrive function.
var functions = []struct {
	use  Use
	name string
}{
	{UseTrigger, "the trigger function"}, {UseTrigger | UseTimer, "the consumer-group function"}, {UseRedriveFC, "the redrive function"},
}

// inlinePEMs are the variables that hold PEM text, and the ones that name
// its file instead (make layer puts the files under /opt/ssl).
var inlinePEMs = []struct{ inline, file, path string }{
	{VarSyslogTLSCA, VarSyslogTLSCAFile, "/opt/ssl/siem-ca.pem"},
	{VarSyslogTLSCert, VarSyslogTLSCertFile, "/opt/ssl/client.pem"},
	{VarSyslogTLSKey, VarSyslogTLSKeyFile, "/opt/ssl/client-key.pem"},
}

// CheckFCEnv reports a function whose environment variables would not fit
// FC's 4 KB: s.yaml passes each function every variable it reads (FC's own
// excepted), set or empty, so each takes its name and its value in getenv.
// The error names the function, the bytes and what to do: PEM text goes
// into a layer, its variables name the files.
func CheckFCEnv(getenv func(string) string) *Error {
	worst, most := "", 0
	for _, f := range functions {
		n := 0
		for _, name := range Names(f.use) {
			if v, _ := Lookup(name); !v.ByFC {
				n += len(name) + len(getenv(name))
			}
		}
		if n > most {
			worst, most = f.name, n
		}
	}
	if most <= MaxFCEnv {
		return nil
	}
	var pems, files []string
	pemBytes := 0
	for _, p := range inlinePEMs {
		if v := getenv(p.inline); v != "" {
			pems, files = append(pems, p.inline), append(files, p.file+"="+p.path)
			pemBytes += len(v)
		}
	}
	msg := fmt.Sprintf("the environment variables of %s would take %d bytes (names and values, as s.yaml passes them); Function Compute allows 4 KB (%d bytes) and refuses the deployment",
		worst, most, MaxFCEnv)
	if len(pems) == 0 {
		return &Error{Var: "", Msg: msg + ": shorten the longest values"}
	}
	return &Error{Var: pems[0], Msg: fmt.Sprintf("%s: %s hold %d bytes of PEM text; put the files in a layer (make layer) and set %s instead",
		msg, strings.Join(pems, ", "), pemBytes, strings.Join(files, ", "))}
}
