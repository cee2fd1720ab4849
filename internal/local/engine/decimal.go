package engine

import (
	"strconv"
	"strings"

	"github.com/cockroachdb/apd/v3"
)

// DynamoDB numbers are decimals of at most 38 significant digits whose
// magnitude lies between 1E-130 and 9.99…E+125; DynamoDB stores and returns
// them in one canonical spelling, plain decimal notation without an
// exponent, leading zeros, trailing fractional zeros or a plus sign, and 0
// for every zero (docs/engine.md#numbers).
const (
	maxNumberDigits = 38
	maxNumberExp    = 125  // adjusted exponent of 9.99…E+125
	minNumberExp    = -130 // adjusted exponent of 1E-130
)

// DynamoDB's messages for numbers it refuses.
const (
	msgNumberOverflow  = "Number overflow. Attempting to store a number with magnitude larger than supported range"
	msgNumberUnderflow = "Number underflow. Attempting to store a number with magnitude smaller than supported range"
	msgNumberPrecision = "Attempting to store more than 38 significant digits in a Number"
	msgNumberSyntax    = "The parameter cannot be converted to a numeric value"
)

// decimal is a scanned number: its significant digits are hi followed by lo
// (two substrings of the text, split where the point was, so that scanning
// never allocates), the last of them is worth 10^exp, and a zero has no
// digits at all.
type decimal struct {
	neg    bool
	hi, lo string
	exp    int
}

func (d decimal) ndigits() int { return len(d.hi) + len(d.lo) }

func (d decimal) digit(i int) byte {
	if i < len(d.hi) {
		return d.hi[i]
	}
	return d.lo[i-len(d.hi)]
}

// adjExp is the exponent of the most significant digit.
func (d decimal) adjExp() int { return d.exp + d.ndigits() - 1 }

// expLimit bounds the exponent read from a text: past it the number is out
// of range whatever its digits, and no arithmetic below can overflow an int.
const expLimit = 1 << 40

// scanDecimal reads s in DynamoDB's number syntax: an optional sign, digits
// with an optional point (at least one digit on either side), an optional
// exponent. "1.", ".5", "+3", "007" and "1E+3" are numbers; "", "NaN",
// "Infinity", "1e", " 1" and "0x10" are not.
func scanDecimal(s string) (decimal, bool) {
	var d decimal
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		d.neg = s[i] == '-'
		i++
	}
	intStart := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	intPart := s[intStart:i]
	var frac string
	if i < len(s) && s[i] == '.' {
		i++
		fracStart := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		frac = s[fracStart:i]
	}
	if intPart == "" && frac == "" {
		return d, false
	}
	exp := 0
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		expNeg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			expNeg = s[i] == '-'
			i++
		}
		expStart := i
		for i < len(s) && isDigit(s[i]) {
			if exp < expLimit {
				exp = exp*10 + int(s[i]-'0')
			}
			i++
		}
		if i == expStart {
			return d, false
		}
		if expNeg {
			exp = -exp
		}
	}
	if i != len(s) {
		return d, false
	}
	// Trim zeros: leading ones of the integer part (and of the fraction
	// when the integer part is all zeros), trailing ones of the fraction
	// (and of the integer part when the fraction is all zeros).
	intPart = strings.TrimLeft(intPart, "0")
	frac = strings.TrimRight(frac, "0")
	d.exp = exp - len(frac)
	if intPart == "" {
		frac = strings.TrimLeft(frac, "0")
	}
	if frac == "" {
		t := strings.TrimRight(intPart, "0")
		d.exp += len(intPart) - len(t)
		intPart = t
	}
	d.hi, d.lo = intPart, frac
	if d.ndigits() == 0 {
		return decimal{}, true
	}
	return d, true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// check returns DynamoDB's message for a number it cannot store ("" when
// it can), in DynamoDB's order: overflow, underflow, precision.
func (d decimal) check() string {
	if d.ndigits() == 0 {
		return ""
	}
	switch e := d.adjExp(); {
	case e > maxNumberExp:
		return msgNumberOverflow
	case e < minNumberExp:
		return msgNumberUnderflow
	}
	if d.ndigits() > maxNumberDigits {
		return msgNumberPrecision
	}
	return ""
}

// String is the canonical spelling.
func (d decimal) String() string {
	n := d.ndigits()
	if n == 0 {
		return "0"
	}
	var b strings.Builder
	b.Grow(n + 3 + max(d.exp, -d.exp))
	if d.neg {
		b.WriteByte('-')
	}
	writeDigits := func(from, to int) {
		for i := from; i < to; i++ {
			b.WriteByte(d.digit(i))
		}
	}
	switch point := n + d.exp; {
	case d.exp >= 0:
		writeDigits(0, n)
		for range d.exp {
			b.WriteByte('0')
		}
	case point > 0:
		writeDigits(0, point)
		b.WriteByte('.')
		writeDigits(point, n)
	default:
		b.WriteString("0.")
		for range -point {
			b.WriteByte('0')
		}
		writeDigits(0, n)
	}
	return b.String()
}

// canonicalNumber validates s as DynamoDB validates a number and returns
// its canonical spelling; s itself, without allocating, when it already is
// canonical (what JSON clients send for ordinary numbers).
func canonicalNumber(s string) (string, error) {
	d, ok := scanDecimal(s)
	if !ok {
		return "", validationf("%s: %s", msgNumberSyntax, clipText(s))
	}
	if msg := d.check(); msg != "" {
		return "", validation(msg)
	}
	if isCanonical(s) {
		return s, nil
	}
	return d.String(), nil
}

// isCanonical reports whether s, a valid number, is spelled as
// decimal.String spells it: -?(0|[1-9][0-9]*)(\.[0-9]*[1-9])? and not -0.
func isCanonical(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	if i == len(s) || !isDigit(s[i]) {
		return false
	}
	if s[i] == '0' {
		i++
		if i == len(s) {
			return s[0] != '-'
		}
		if s[i] != '.' {
			return false
		}
	} else {
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i == len(s) {
			return true
		}
		if s[i] != '.' {
			return false
		}
	}
	i++ // the point
	start := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	// A fraction ending in a non-zero digit: "1.50" and "0.0" are not
	// canonical, "-0.5" is.
	return i == len(s) && i > start && s[i-1] != '0'
}

// compareNumbers compares two valid numbers exactly: -1, 0 or +1.
func compareNumbers(a, b string) int {
	x, _ := scanDecimal(a)
	y, _ := scanDecimal(b)
	return compareDecimals(x, y)
}

func compareDecimals(x, y decimal) int {
	sx, sy := x.sign(), y.sign()
	if sx != sy {
		return cmpInt(sx, sy)
	}
	if sx == 0 {
		return 0
	}
	// Same sign: compare magnitudes, then flip for negatives.
	m := 0
	if ex, ey := x.adjExp(), y.adjExp(); ex != ey {
		m = cmpInt(ex, ey)
	} else {
		nx, ny := x.ndigits(), y.ndigits()
		for i := 0; i < min(nx, ny) && m == 0; i++ {
			m = cmpInt(int(x.digit(i)), int(y.digit(i)))
		}
		if m == 0 {
			m = cmpInt(nx, ny)
		}
	}
	return m * sx
}

func (d decimal) sign() int {
	switch {
	case d.ndigits() == 0:
		return 0
	case d.neg:
		return -1
	}
	return 1
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// arithmetic has room for every sum of two storable numbers exactly: their
// digits span at most 38 + (125 - (-130)) + 1 positions.
var arithmetic = apd.BaseContext.WithPrecision(400)

// addNumbers returns a+b (a-b with sub) computed exactly, in canonical
// spelling. A result DynamoDB cannot store is refused with its message; a
// result of more than 38 significant digits is reported as an overflow, as
// DynamoDB reports 1E+50 + 1 (docs/engine.md#numbers).
func addNumbers(a, b string, sub bool) (string, error) {
	// Counters: integers of up to 18 digits add exactly in an int64.
	if x, ok := smallInt(a); ok {
		if y, ok := smallInt(b); ok {
			if sub {
				y = -y
			}
			return strconv.FormatInt(x+y, 10), nil
		}
	}
	x, err := toApd(a)
	if err != nil {
		return "", err
	}
	y, err := toApd(b)
	if err != nil {
		return "", err
	}
	var r apd.Decimal
	if sub {
		_, err = arithmetic.Sub(&r, x, y)
	} else {
		_, err = arithmetic.Add(&r, x, y)
	}
	if err != nil {
		return "", validation(msgNumberOverflow)
	}
	r.Reduce(&r)
	if r.IsZero() {
		return "0", nil
	}
	if r.NumDigits() > maxNumberDigits {
		return "", validation(msgNumberOverflow)
	}
	switch e := int64(r.Exponent) + r.NumDigits() - 1; {
	case e > maxNumberExp:
		return "", validation(msgNumberOverflow)
	case e < minNumberExp:
		return "", validation(msgNumberUnderflow)
	}
	return r.Text('f'), nil
}

// smallInt parses s when it is an integer of at most 18 digits in
// canonical spelling.
func smallInt(s string) (int64, bool) {
	digits := strings.TrimPrefix(s, "-")
	if len(digits) == 0 || len(digits) > 18 || strings.IndexByte(digits, '.') >= 0 || !isCanonical(s) {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// toApd converts a stored (valid) number for arithmetic.
func toApd(s string) (*apd.Decimal, error) {
	d, ok := scanDecimal(s)
	if !ok || d.check() != "" {
		return nil, validationf("%s: %s", msgNumberSyntax, clipText(s))
	}
	var coeff apd.BigInt
	if n := d.ndigits(); n > 0 {
		if _, ok := coeff.SetString(d.hi+d.lo, 10); !ok {
			return nil, validationf("%s: %s", msgNumberSyntax, clipText(s))
		}
	}
	r := apd.NewWithBigInt(&coeff, int32(d.exp))
	r.Negative = d.neg && d.ndigits() > 0
	return r, nil
}
