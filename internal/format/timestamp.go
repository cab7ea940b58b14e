package format

import (
	"math"
	"time"
)

// clock formats log times in one time zone. It caches the formatted
// second and the zone's offset, so that logs of the same second (and of
// the same zone period) cost no date arithmetic. Not safe for concurrent
// use.
type clock struct {
	loc *time.Location // nil: UTC

	sec    int64    // the second cached in date (math.MinInt64: none)
	date   [19]byte // YYYY-MM-DDThh:mm:ss in the zone
	bsd    [15]byte // Mmm dd hh:mm:ss (RFC 3164) in the zone
	offset int      // zone offset of sec, in seconds east of UTC

	zoneFrom, zoneTo int64 // [from, to) where offset is valid
	zone5424         [6]byte
	zone5424Len      int
	zoneJava         [5]byte // +hhmm (Java's Z pattern)
}

func newClock(loc *time.Location) *clock {
	if loc == time.UTC {
		loc = nil
	}
	c := &clock{loc: loc, sec: math.MinInt64}
	if loc == nil {
		c.zoneFrom, c.zoneTo = math.MinInt64, math.MaxInt64
		c.setOffset(0)
	}
	return c
}

// at makes sec the cached second.
func (c *clock) at(sec int64) {
	if sec == c.sec {
		return
	}
	if sec < c.zoneFrom || sec >= c.zoneTo {
		t := time.Unix(sec, 0).In(c.loc)
		_, off := t.Zone()
		from, to := t.ZoneBounds()
		c.zoneFrom, c.zoneTo = math.MinInt64, math.MaxInt64
		if !from.IsZero() {
			c.zoneFrom = from.Unix()
		}
		if !to.IsZero() {
			c.zoneTo = to.Unix()
		}
		c.setOffset(off)
	}
	c.sec = sec
	local := sec + int64(c.offset)
	days := floorDiv(local, 86400)
	secs := int(local - days*86400)
	y, m, d := civil(days)
	hh, mm, ss := secs/3600, secs/60%60, secs%60
	b := c.date[:0]
	b = appendDigits(b, y, 4)
	b = append(b, '-')
	b = appendDigits(b, m, 2)
	b = append(b, '-')
	b = appendDigits(b, d, 2)
	b = append(b, 'T')
	b = appendDigits(b, hh, 2)
	b = append(b, ':')
	b = appendDigits(b, mm, 2)
	b = append(b, ':')
	appendDigits(b, ss, 2)

	b = c.bsd[:0]
	b = append(b, monthNames[m-1]...)
	b = append(b, ' ')
	if d < 10 {
		b = append(b, ' ', byte('0'+d))
	} else {
		b = appendDigits(b, d, 2)
	}
	b = append(b, ' ')
	_ = append(b, c.date[11:19]...) // the appends above fill c.bsd in place
}

func (c *clock) setOffset(off int) {
	c.offset = off
	if off == 0 && c.loc == nil {
		c.zone5424[0] = 'Z'
		c.zone5424Len = 1
	} else {
		sign := byte('+')
		a := off
		if a < 0 {
			sign, a = '-', -a
		}
		h, m := a/3600, a/60%60
		z := append(c.zone5424[:0], sign)
		z = appendDigits(z, h, 2)
		z = append(z, ':')
		appendDigits(z, m, 2)
		c.zone5424Len = 6
	}
	sign := byte('+')
	a := off
	if a < 0 {
		sign, a = '-', -a
	}
	z := append(c.zoneJava[:0], sign)
	z = appendDigits(z, a/3600, 2)
	appendDigits(z, a/60%60, 2)
}

var monthNames = [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// appendRFC3339 appends the RFC 3339 time of sec and nsec with exactly six
// fractional digits and the zone's offset (Z for UTC).
func (c *clock) appendRFC3339(dst []byte, sec, nsec int64) []byte {
	c.at(sec)
	dst = append(dst, c.date[:]...)
	dst = append(dst, '.')
	dst = appendFrac(dst, int(nsec/1000), 6)
	return append(dst, c.zone5424[:c.zone5424Len]...)
}

// appendJava appends yyyy-MM-dd'T'HH:mm:ss.SSSZ (LEEF devTime).
func (c *clock) appendJava(dst []byte, sec, nsec int64) []byte {
	c.at(sec)
	dst = append(dst, c.date[:]...)
	dst = append(dst, '.')
	dst = appendFrac(dst, int(nsec/1e6), 3)
	return append(dst, c.zoneJava[:]...)
}

// appendBSD appends the RFC 3164 timestamp Mmm dd hh:mm:ss.
func (c *clock) appendBSD(dst []byte, sec int64) []byte {
	c.at(sec)
	return append(dst, c.bsd[:]...)
}

// AppendTimestamp appends an RFC 3339 UTC timestamp with exactly six
// fractional digits, e.g. 2024-05-06T07:08:09.123456Z, of sec seconds plus
// nsec nanoseconds: a nanosecond part outside [0, 1e9) carries into the
// seconds, as time.Unix does (and as Encoder does with __time_ns_part__).
func AppendTimestamp(dst []byte, sec int64, nsec int64) []byte {
	var c clock
	c.sec, c.zoneFrom, c.zoneTo = math.MinInt64, math.MinInt64, math.MaxInt64
	c.setOffset(0)
	sec += floorDiv(nsec, 1e9)
	nsec -= floorDiv(nsec, 1e9) * 1e9
	return c.appendRFC3339(dst, sec, nsec)
}

// civil returns the proleptic Gregorian date of days since 1970-01-01
// (Howard Hinnant's days_from_civil, inverted).
func civil(days int64) (year, month, day int) {
	z := days + 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if mp >= 10 {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return int(y), int(m), int(d)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// appendDigits appends n zero-padded to width digits (n >= 0).
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

// twoDigits holds "00" to "99".
const twoDigits = "00010203040506070809101112131415161718192021222324252627282930313233343536373839" +
	"4041424344454647484950515253545556575859606162636465666768697071727374757677787980818283848586878889" +
	"90919293949596979899"

// appendFrac appends n (< 10^width) as exactly width digits.
func appendFrac(dst []byte, n, width int) []byte {
	if width == 6 {
		a, b, c := n/10000, n/100%100, n%100
		return append(dst, twoDigits[2*a], twoDigits[2*a+1], twoDigits[2*b], twoDigits[2*b+1], twoDigits[2*c], twoDigits[2*c+1])
	}
	l := len(dst)
	dst = append(dst, "000000000"[:width]...)
	for i := l + width - 1; i >= l; i-- {
		dst[i] = byte('0' + n%10)
		n /= 10
	}
	return dst
}
