package config

// Format variables: message format, body, field mapping and size rules.
// (Filled in by the formats work; see README "Messages".)
var formatVars = []string{}

func (p *parser) parseFormat(c *Config) {}
