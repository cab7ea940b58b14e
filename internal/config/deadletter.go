package config

import "sls2siem/internal/trust"

// Dead-letter variables: where the trigger function records the ranges it
// could not ship, for sls2siem redrive to ship again.
const (
	VarShipDeadLetterLogstore = "SHIP_DEADLETTER_LOGSTORE"
)

var deadLetterVars = []string{VarShipDeadLetterLogstore}

// deadLetterLogstore reads SHIP_DEADLETTER_LOGSTORE: "" when unset (no
// dead-letter records), else a logstore name of the source project.
func (p *parser) deadLetterLogstore() string {
	v := p.str(VarShipDeadLetterLogstore)
	if v == "" {
		return ""
	}
	if err := trust.Logstore(v); err != nil {
		p.fail(VarShipDeadLetterLogstore, "%v", err)
		return ""
	}
	return v
}
