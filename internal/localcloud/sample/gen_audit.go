package sample

import (
	"fmt"
	"strings"
)

const accountID = "1389476512345678"

type user struct {
	name, kind, principalID, accessKeyID string
}

func (g *generator) newUsers() []user {
	names := []struct{ name, kind string }{
		{"张伟", "ram-user"},
		{"李娜", "ram-user"},
		{"José García", "ram-user"},
		{"Zoë Müller", "ram-user"},
		{"françois.dupont", "ram-user"},
		{"ops-bot 🤖", "ram-user"},
		{"terraform-ci", "ram-user"},
		{"root", "root-account"},
		{"ops-admin:session-ci-4821", "assumed-role"},
	}
	users := make([]user, len(names))
	for i, n := range names {
		u := user{name: n.name, kind: n.kind, principalID: fmt.Sprintf("2%017d", g.r.intn(1e17))}
		switch n.kind {
		case "assumed-role":
			u.accessKeyID = "STS.NT" + g.r.alnum(22)
			u.principalID = fmt.Sprintf("3%017d:session-ci-4821", g.r.intn(1e17))
		case "root-account":
			u.principalID = accountID
			u.accessKeyID = "LTAI5t" + g.r.alnum(18)
		default:
			u.accessKeyID = "LTAI5t" + g.r.alnum(18)
		}
		users[i] = u
	}
	return users
}

type auditEvent struct {
	name, service, source, eventType string
	resource                         func(g *generator, region string, u user) string
	params                           func(g *generator, u user) string
}

var auditEvents = []auditEvent{
	{"ConsoleSignin", "AasSub", "signin.aliyun.com", "ConsoleSignin",
		func(*generator, string, user) string { return "" },
		func(*generator, user) string { return "" }},
	{"DescribeInstances", "Ecs", "ecs.aliyuncs.com", "ApiCall",
		func(_ *generator, region string, _ user) string {
			return fmt.Sprintf("acs:ecs:%s:%s:instance/*", region, accountID)
		},
		func(*generator, user) string { return `{"PageSize":"100","RegionId":"cn-hangzhou"}` }},
	{"DescribeInstances", "Ecs", "ecs.aliyuncs.com", "ApiCall",
		func(_ *generator, region string, _ user) string {
			return fmt.Sprintf("acs:ecs:%s:%s:instance/*", region, accountID)
		},
		func(*generator, user) string { return "" }},
	{"RunInstances", "Ecs", "ecs.aliyuncs.com", "ApiCall",
		func(g *generator, region string, _ user) string {
			return fmt.Sprintf("acs:ecs:%s:%s:instance/i-bp1%s", region, accountID, g.r.hex(17, false))
		},
		func(*generator, user) string {
			return `{"InstanceType":"ecs.g7.8xlarge","Amount":"20","ImageId":"ubuntu_22_04_x64_20G_alibase_20240101.vhd"}`
		}},
	{"AuthorizeSecurityGroup", "Ecs", "ecs.aliyuncs.com", "ApiCall",
		func(g *generator, region string, _ user) string {
			return fmt.Sprintf("acs:ecs:%s:%s:securitygroup/sg-bp1%s", region, accountID, g.r.hex(17, false))
		},
		func(g *generator, _ user) string {
			return fmt.Sprintf(`{"IpProtocol":"tcp","PortRange":"%s","SourceCidrIp":"0.0.0.0/0","Description":"temp \"debug\" access"}`,
				g.r.pick([]string{"22/22", "3389/3389", "1/65535"}))
		}},
	{"CreateAccessKey", "Ram", "ram.aliyuncs.com", "ApiCall",
		func(_ *generator, _ string, u user) string {
			return fmt.Sprintf("acs:ram::%s:user/%s", accountID, u.name)
		},
		func(_ *generator, u user) string {
			return fmt.Sprintf(`{"UserPrincipalName":"%s@%s.onaliyun.com"}`, u.name, accountID)
		}},
	{"CreateUser", "Ram", "ram.aliyuncs.com", "ApiCall",
		func(g *generator, _ string, _ user) string {
			return fmt.Sprintf("acs:ram::%s:user/backup-%s", accountID, g.r.hex(4, false))
		},
		func(*generator, user) string {
			return `{"UserName":"backup","DisplayName":"backup | svc=cron || temp"}`
		}},
	{"AttachPolicyToUser", "Ram", "ram.aliyuncs.com", "ApiCall",
		func(_ *generator, _ string, u user) string {
			return fmt.Sprintf("acs:ram::%s:user/%s", accountID, u.name)
		},
		func(*generator, user) string {
			return `{"PolicyType":"System","PolicyName":"AdministratorAccess"}`
		}},
	{"AssumeRole", "Sts", "sts.aliyuncs.com", "ApiCall",
		func(*generator, string, user) string { return fmt.Sprintf("acs:ram::%s:role/ops-admin", accountID) },
		func(*generator, user) string {
			return fmt.Sprintf(`{"RoleArn":"acs:ram::%s:role/ops-admin","RoleSessionName":"session-ci-4821","DurationSeconds":"3600"}`, accountID)
		}},
	{"PutBucketAcl", "Oss", "oss-cn-hangzhou.aliyuncs.com", "ApiCall",
		func(*generator, string, user) string {
			return fmt.Sprintf("acs:oss:*:%s:finance-reports-2025", accountID)
		},
		func(*generator, user) string { return `{"x-oss-acl":"public-read"}` }},
	{"StopLogging", "Actiontrail", "actiontrail.aliyuncs.com", "ApiCall",
		func(_ *generator, region string, _ user) string {
			return fmt.Sprintf("acs:actiontrail:%s:%s:trail/default-trail", region, accountID)
		},
		func(*generator, user) string { return `{"Name":"default-trail"}` }},
	{"DeleteLogStore", "Sls", "cn-hangzhou.log.aliyuncs.com", "ApiCall",
		func(_ *generator, region string, _ user) string {
			return fmt.Sprintf("acs:log:%s:%s:project/sls2siem-demo/logstore/audit-backup", region, accountID)
		},
		func(*generator, user) string { return "" }},
}

var auditErrors = []struct{ code, message string }{
	{"NoPermission", `You are not authorized to do this action. [Action: "ecs:RunInstances"]`},
	{"Forbidden.RAM", "User not authorized to operate on the specified resource, or this API doesn't support RAM."},
	{"InvalidAccessKeyId.NotFound", "Specified access key is not found."},
	{"Throttling.User", "Request was denied due to user flow control."},
}

var auditUserAgents = []string{
	"AlibabaCloud (linux; amd64) Go/1.22.5 Core/1.62.0",
	"aliyun-cli/3.0.190",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) Safari/605.1.15",
	"Terraform/1.6.4 terraform-provider-alicloud/1.213.0",
	`python-requests/2.31.0 "aliyun-python-sdk-core/2.13.36"`,
}

var auditIPs = []string{"203.0.113.45", "203.0.113.46", "198.51.100.23", "192.0.2.200", "2001:db8::17", "ecs.aliyuncs.com"}

var regions = []string{"cn-hangzhou", "cn-hangzhou", "cn-shanghai", "cn-beijing", "ap-southeast-1"}

// audit fills l with an ActionTrail-like event, flattened the way the
// ActionTrail delivery to SLS flattens it.
func (g *generator) audit(l Log) Log {
	ev := auditEvents[g.r.intn(len(auditEvents))]
	u := g.users[g.r.intn(len(g.users))]
	region := g.r.pick(regions)
	c := []Pair{
		{"eventId", g.r.uuid()},
		{"eventName", ev.name},
		{"eventType", ev.eventType},
		{"acsRegion", region},
		{"serviceName", ev.service},
		{"sourceIpAddress", g.r.pick(auditIPs)},
		{"userAgent", g.r.pick(auditUserAgents)},
		{"userIdentity.type", u.kind},
		{"userIdentity.userName", u.name},
	}
	if g.r.intn(4) == 0 {
		c = append(c, Pair{"userIdentity.principalId", u.principalID})
	}
	if ev.eventType == "ApiCall" {
		c = append(c, Pair{"userIdentity.accessKeyId", u.accessKeyID})
	}
	if r := ev.resource(g, region, u); r != "" {
		c = append(c, Pair{"resourceName", r})
	}
	if p := ev.params(g, u); p != "" && g.r.intn(3) == 0 {
		c = append(c, Pair{"requestParameters", p})
	}
	switch v := g.r.intn(20); {
	case ev.eventType == "ConsoleSignin":
		if v < 6 {
			c = append(c, Pair{"errorCode", "InvalidPassword"}, Pair{"errorMessage", "The password is incorrect."},
				Pair{"additionalEventData.loginResult", "Failed"})
		} else {
			c = append(c, Pair{"additionalEventData.loginResult", "Success"},
				Pair{"additionalEventData.MFAUsed", strings.ToLower(fmt.Sprint(v%2 == 0))})
		}
	case v < 3:
		e := auditErrors[g.r.intn(len(auditErrors))]
		c = append(c, Pair{"errorCode", e.code}, Pair{"errorMessage", e.message})
	case v == 3:
		c = append(c, Pair{"errorCode", ""})
	}
	l.Contents = c
	return l
}
