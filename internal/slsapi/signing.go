package slsapi

import (
	"fmt"
	"log/slog"
	"regexp"
	"strings"

	sls "github.com/aliyun/aliyun-log-go-sdk"
	"github.com/aliyun/aliyun-log-go-sdk/util"
)

// Signature versions of SLS requests (SLS_SIGNATURE_VERSION).
const (
	// SignatureV1 signs with HMAC-SHA1 ("LOG <AccessKeyId>:<signature>",
	// Request signatures, https://www.alibabacloud.com/help/en/sls/developer-reference/request-signatures).
	SignatureV1 = "v1"
	// SignatureV4 signs with SLS4-HMAC-SHA256, scoped to a region
	// (https://help.aliyun.com/en/sls/developer-reference/request-signature-v4).
	SignatureV4 = "v4"
)

// Signing is how the requests of a process are signed.
//
// The default (Version "") is the Go SDK's (v0.1.127): its Client, its
// consumer library and its producer sign v1 unless told otherwise
// ("v1 or v4 signature, default is v1"), and its recommended constructor,
// CreateNormalInterfaceV2, switches to v4 on its own only for endpoints
// whose region contains "-acdr-ut-", which take v4 alone; v4 is offered
// through SetAuthVersion with SetRegion (its example/signv4).
type Signing struct {
	// Version is SignatureV1, SignatureV4 or "" for the SDK's default.
	Version string
	// Region is the region v4 signs for (SLS_REGION); "" derives it from
	// the endpoint's host name, as the SDK's util.ParseRegion does
	// (cn-hangzhou from cn-hangzhou-intranet.log.aliyuncs.com), which
	// fails for an IP address or another domain.
	Region string
}

// regionPattern is what a region ID looks like: cn-hangzhou,
// ap-southeast-1, cn-shanghai-finance-1.
var regionPattern = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)+$`)

// CheckRegion reports whether r looks like a region ID.
func CheckRegion(r string) error {
	if len(r) > 64 || !regionPattern.MatchString(r) {
		return fmt.Errorf("want a region ID such as cn-hangzhou or ap-southeast-1")
	}
	return nil
}

// For returns the SDK's settings for requests to endpoint
// (scheme://host[:port] or a host): the auth version and, for v4, the
// region. Its error says why v4 has no region.
func (s Signing) For(endpoint string) (sls.AuthVersionType, string, error) {
	parsed, perr := util.ParseRegion(hostOf(endpoint))
	switch s.Version {
	case SignatureV1:
		return sls.AuthV1, "", nil
	case "":
		if perr == nil && strings.Contains(parsed, "-acdr-ut-") {
			return sls.AuthV4, parsed, nil // the SDK's setSignV4IfInAcdr
		}
		return sls.AuthV1, "", nil
	case SignatureV4:
	default:
		return "", "", fmt.Errorf("unknown SLS signature version %q: want %s or %s", s.Version, SignatureV1, SignatureV4)
	}
	switch {
	case s.Region != "":
		return sls.AuthV4, s.Region, nil
	case perr == nil:
		return sls.AuthV4, parsed, nil
	}
	return "", "", &RegionError{Endpoint: endpoint}
}

// RegionError is a v4 signature without a region: the endpoint's host
// name does not name one (an IP address, a custom domain) and none is set.
type RegionError struct{ Endpoint string }

func (e *RegionError) Error() string {
	return fmt.Sprintf("v4 signatures need the region of SLS endpoint %s, which its host name does not give: set SLS_REGION", e.Endpoint)
}

// hostOf returns the host name of endpoint, without scheme and port.
func hostOf(endpoint string) string {
	if _, rest, ok := strings.Cut(endpoint, "://"); ok {
		endpoint = rest
	}
	endpoint, _, _ = strings.Cut(endpoint, "/")
	if i := strings.LastIndexByte(endpoint, ':'); i >= 0 && !strings.Contains(endpoint[i:], "]") {
		endpoint = endpoint[:i]
	}
	return endpoint
}

// apply sets c to sign for its endpoint. An endpoint without a region
// under v4 gets a placeholder region, so that the SDK signs: the
// Transport refuses such a request before it is sent (check).
func (s Signing) apply(c *sls.Client) {
	v, region, err := s.For(c.Endpoint)
	if err != nil {
		v, region = sls.AuthV4, "unknown"
	}
	c.AuthVersion, c.Region = v, region
}

// check returns the *RegionError of a request to host (<project>.<endpoint>)
// that s cannot sign, or nil.
func (s Signing) check(scheme, host string) error {
	if s.Version != SignatureV4 || s.Region != "" {
		return nil // no region to find
	}
	_, _, err := s.For(endpointOf(scheme, host))
	return err
}

// LogValue logs the signing as configured: "v1", "v4", "v4 cn-hangzhou",
// or "default" (the SDK's).
func (s Signing) LogValue() slog.Value {
	v := s.Version
	if v == "" {
		v = "default"
	}
	if s.Region != "" {
		v += " " + s.Region
	}
	return slog.StringValue(v)
}
