package localcloud

import (
	"fmt"
	"io"
	"strings"

	"sls2siem/internal/localcloud/receiver"
	"sls2siem/internal/localcloud/sample"
	"sls2siem/internal/localcloud/slsemu"
	"sls2siem/internal/trust"
)

// startSLS starts the SLS emulator with the sample's logstore created (still
// empty), a loader key for putting the data, and the other credentials it
// must accept. The caller closes the emulator.
func startSLS(data *sample.Logstore, creds ...slsemu.Credential) (emu *slsemu.Server, endpoint string, loader slsemu.Credential, err error) {
	emu = slsemu.New()
	loader = slsemu.Credential{AccessKeyID: randomID("LTAIloader", 6), AccessKeySecret: randomID("", 16)}
	emu.AddCredential(loader)
	for _, c := range creds {
		emu.AddCredential(c)
	}
	if endpoint, err = emu.Start("127.0.0.1:0"); err != nil {
		return nil, "", loader, fmt.Errorf("local cloud: start the SLS emulator: %w", err)
	}
	if err := emu.CreateLogstore(data.Project, data.Logstore, len(data.Shards)); err != nil {
		emu.Close()
		return nil, "", loader, fmt.Errorf("local cloud: %w", err)
	}
	return emu, endpoint, loader, nil
}

// TrustEnv is what the function needs to talk to the local cloud's SLS
// emulator at endpoint (http://127.0.0.1:PORT): it listens on loopback
// over plain HTTP, which the default SLS_ALLOWED_ENDPOINTS and SLS_HTTPS
// refuse. The allow-list names the emulator's port, so that nothing else
// listening on loopback is admitted.
func TrustEnv(endpoint string) []string {
	return []string{"SLS_ALLOWED_ENDPOINTS=" + AllowedPatterns(endpoint), "SLS_HTTPS=false"}
}

// AllowedPatterns is the SLS_ALLOWED_ENDPOINTS of the emulator at
// endpoint: 127.0.0.1 and localhost on its port.
func AllowedPatterns(endpoint string) string {
	port := endpoint[strings.LastIndexByte(endpoint, ':')+1:]
	return "127.0.0.1:" + port + ",localhost:" + port
}

// LocalEndpoints is TrustEnv as the logstore transport takes it.
func LocalEndpoints(endpoint string) trust.Endpoints {
	e, err := trust.ParseEndpoints(AllowedPatterns(endpoint), false)
	if err != nil {
		panic(err)
	}
	return e
}

// syslogTarget returns the function's environment (the emulator at
// endpoint admitted) pointed at the embedded
// receiver (started here, printing to messages) unless SYSLOG_HOST names a
// real one, and a description of the receiver. rcv is nil for a real one.
func syslogTarget(endpoint string, env []string, messages io.Writer) (rcv *receiver.Receiver, out []string, desc string, err error) {
	env = append(TrustEnv(endpoint), env...)
	proto := lookupDefault(env, "SYSLOG_PROTOCOL", "tcp")
	if lookup(env, "SYSLOG_HOST") != "" {
		return nil, env, proto + "://" + lookup(env, "SYSLOG_HOST") + ":" + lookupDefault(env, "SYSLOG_PORT", "514"), nil
	}
	rcv, addr, err := startReceiver(env, messages)
	if err != nil {
		return nil, nil, "", err
	}
	out = append(withoutVars(env, "SYSLOG_HOST", "SYSLOG_PORT"), "SYSLOG_HOST=127.0.0.1", "SYSLOG_PORT="+addr[strings.LastIndexByte(addr, ':')+1:])
	return rcv, out, "embedded receiver " + proto + "://" + addr, nil
}
