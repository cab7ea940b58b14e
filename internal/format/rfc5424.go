package format

import (
	"strconv"
	"time"
)

// RFC5424 writes RFC 5424 headers: <PRI>1 TIMESTAMP HOSTNAME APP-NAME
// PROCID MSGID STRUCTURED-DATA, with PROCID, MSGID and STRUCTURED-DATA nil
// ("-") and TIMESTAMP in UTC at microsecond precision.
type RFC5424 struct {
	pri  []byte // "<PRI>1 "
	tail []byte // " HOSTNAME APP-NAME - - - "
}

// NewRFC5424 returns a header writer. hostname and appName must already be
// valid RFC 5424 header fields (printable US-ASCII, no spaces); an empty
// one is written as "-".
func NewRFC5424(facility, severity int, hostname, appName string) *RFC5424 {
	h := &RFC5424{}
	h.pri = append(h.pri, '<')
	h.pri = strconv.AppendInt(h.pri, int64(facility*8+severity), 10)
	h.pri = append(h.pri, ">1 "...)
	h.tail = append(h.tail, ' ')
	h.tail = append(h.tail, nilValue(hostname)...)
	h.tail = append(h.tail, ' ')
	h.tail = append(h.tail, nilValue(appName)...)
	h.tail = append(h.tail, " - - - "...)
	return h
}

// Append appends the header of a message logged at sec seconds and nsec
// nanoseconds after the Unix epoch, including the space before MSG.
func (h *RFC5424) Append(dst []byte, sec int64, nsec int64) []byte {
	dst = append(dst, h.pri...)
	dst = AppendTimestamp(dst, sec, nsec)
	return append(dst, h.tail...)
}

// AppendTimestamp appends an RFC 3339 UTC timestamp with exactly six
// fractional digits, e.g. 2024-05-06T07:08:09.123456Z.
// A nanosecond part outside [0, 1e9) is not a valid SLS value and is ignored.
func AppendTimestamp(dst []byte, sec int64, nsec int64) []byte {
	if nsec < 0 || nsec >= 1e9 {
		nsec = 0
	}
	t := time.Unix(sec, nsec).UTC()
	year, month, day := t.Date()
	hour, minute, second := t.Clock()
	dst = appendDigits(dst, year, 4)
	dst = append(dst, '-')
	dst = appendDigits(dst, int(month), 2)
	dst = append(dst, '-')
	dst = appendDigits(dst, day, 2)
	dst = append(dst, 'T')
	dst = appendDigits(dst, hour, 2)
	dst = append(dst, ':')
	dst = appendDigits(dst, minute, 2)
	dst = append(dst, ':')
	dst = appendDigits(dst, second, 2)
	dst = append(dst, '.')
	dst = appendDigits(dst, t.Nanosecond()/1000, 6)
	return append(dst, 'Z')
}

// appendDigits appends n zero-padded to width digits.
func appendDigits(dst []byte, n, width int) []byte {
	var buf [20]byte
	i := len(buf)
	for n > 0 || width > 0 {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
		width--
	}
	return append(dst, buf[i:]...)
}

func nilValue(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
