package minidynengine

import (
	"math/big"
	"strings"
)

// DynamoDB numbers are decimals of up to 38 significant digits with a
// magnitude between 1E-130 and 9.99…E+125, stored and returned in one
// canonical spelling: plain decimal notation (never an exponent), no
// leading zeros before the integer part, no trailing zeros after the
// point, no plus sign, and 0 for every zero ("1e3" → "1000", "1.50" →
// "1.5", "-0" → "0", ".5" → "0.5", "1E+2" → "100"). The rules are those
// that scylladb's test/alternator/test_number.py (_NORMALIZATION_CASES)
// checks against DynamoDB itself; the error messages are DynamoDB's.
const (
	maxNumberDigits   = 38
	maxNumberExponent = 125  // largest magnitude: 9.99…E+125
	minNumberExponent = -130 // smallest non-zero magnitude: 1E-130
)

const (
	msgNumberOverflow  = "Number overflow. Attempting to store a number with magnitude larger than supported range"
	msgNumberUnderflow = "Number underflow. Attempting to store a number with magnitude smaller than supported range"
	msgNumberPrecision = "Attempting to store more than 38 significant digits in a Number"
	msgNumberSyntax    = "The parameter cannot be converted to a numeric value"
)

// valueError is a value DynamoDB refuses (a number out of range, an empty
// set); its message is DynamoDB's.
type valueError struct{ msg string }

func (e *valueError) Error() string { return e.msg }

// decimal is a parsed number: neg, the significant digits (no leading or
// trailing zero; empty for zero), and the exponent of the last digit, so
// that the value is ±digits × 10^exp.
type decimal struct {
	neg    bool
	digits string
	exp    int
}

// adjustedExp is the exponent of the most significant digit.
func (d decimal) adjustedExp() int { return d.exp + len(d.digits) - 1 }

// maxParsedExponent bounds the exponent read from input: beyond it the
// number is out of range whatever its digits (a 1 MiB body holds at most
// ~10^6 digits), and the arithmetic below never overflows an int.
const maxParsedExponent = 1 << 40

// numberScan is the shape of a number as written: its sign, the digits
// of its integer part and fraction, its exponent, and the positions of
// its first and last non-zero digits among intPart+frac (-1 for zero).
type numberScan struct {
	neg         bool
	intPart     string
	frac        string
	exp         int
	first, last int
}

// scanNumber reads n in DynamoDB's number syntax: an optional sign,
// digits with an optional point, an optional exponent ("1.", ".5", "+3",
// "007" and "1E+3" are numbers; "", "NaN", "1e", " 1" are not). It does
// not allocate.
func scanNumber(n string) (numberScan, bool) {
	var s numberScan
	i := 0
	if i < len(n) && (n[i] == '+' || n[i] == '-') {
		s.neg = n[i] == '-'
		i++
	}
	start := i
	for i < len(n) && isDigit(n[i]) {
		i++
	}
	s.intPart = n[start:i]
	if i < len(n) && n[i] == '.' {
		i++
		start = i
		for i < len(n) && isDigit(n[i]) {
			i++
		}
		s.frac = n[start:i]
	}
	if s.intPart == "" && s.frac == "" {
		return s, false
	}
	if i < len(n) && (n[i] == 'e' || n[i] == 'E') {
		i++
		expNeg := false
		if i < len(n) && (n[i] == '+' || n[i] == '-') {
			expNeg = n[i] == '-'
			i++
		}
		start = i
		for i < len(n) && isDigit(n[i]) {
			if s.exp < maxParsedExponent {
				s.exp = s.exp*10 + int(n[i]-'0')
			}
			i++
		}
		if i == start {
			return s, false
		}
		if expNeg {
			s.exp = -s.exp
		}
	}
	if i != len(n) {
		return s, false
	}
	s.first, s.last = -1, -1
	for k := 0; k < len(s.intPart)+len(s.frac); k++ {
		if digitAt(s.intPart, s.frac, k) != '0' {
			if s.first < 0 {
				s.first = k
			}
			s.last = k
		}
	}
	return s, true
}

// check returns DynamoDB's error for a number out of its range or
// precision, in DynamoDB's order: overflow, underflow, precision.
func (s numberScan) check() error {
	if s.first < 0 {
		return nil
	}
	total := len(s.intPart) + len(s.frac)
	switch adj := s.exp - len(s.frac) + total - 1 - s.first; {
	case adj > maxNumberExponent:
		return &valueError{msgNumberOverflow}
	case adj < minNumberExponent:
		return &valueError{msgNumberUnderflow}
	}
	if s.last-s.first+1 > maxNumberDigits {
		return &valueError{msgNumberPrecision}
	}
	return nil
}

// decimal returns the number's value (allocating when its significant
// digits span the point).
func (s numberScan) decimal() decimal {
	if s.first < 0 {
		return decimal{} // zero, whatever its sign and exponent
	}
	total := len(s.intPart) + len(s.frac)
	d := decimal{neg: s.neg, exp: s.exp - len(s.frac) + (total - 1 - s.last)}
	switch in := len(s.intPart); {
	case s.last < in:
		d.digits = s.intPart[s.first : s.last+1]
	case s.first >= in:
		d.digits = s.frac[s.first-in : s.last+1-in]
	default:
		d.digits = s.intPart[s.first:] + s.frac[:s.last+1-in]
	}
	return d
}

// parseNumber parses n without checking its range.
func parseNumber(n string) (decimal, bool) {
	s, ok := scanNumber(n)
	if !ok {
		return decimal{}, false
	}
	return s.decimal(), true
}

func digitAt(intPart, frac string, k int) byte {
	if k < len(intPart) {
		return intPart[k]
	}
	return frac[k-len(intPart)]
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// check is numberScan.check for a computed value.
func (d decimal) check() error {
	if d.digits == "" {
		return nil
	}
	switch e := d.adjustedExp(); {
	case e > maxNumberExponent:
		return &valueError{msgNumberOverflow}
	case e < minNumberExponent:
		return &valueError{msgNumberUnderflow}
	}
	if len(d.digits) > maxNumberDigits {
		return &valueError{msgNumberPrecision}
	}
	return nil
}

// String is the canonical spelling.
func (d decimal) String() string {
	if d.digits == "" {
		return "0"
	}
	var b strings.Builder
	b.Grow(len(d.digits) + 3 + max(d.exp, -d.exp))
	if d.neg {
		b.WriteByte('-')
	}
	switch point := len(d.digits) + d.exp; {
	case d.exp >= 0:
		b.WriteString(d.digits)
		for range d.exp {
			b.WriteByte('0')
		}
	case point > 0:
		b.WriteString(d.digits[:point])
		b.WriteByte('.')
		b.WriteString(d.digits[point:])
	default:
		b.WriteString("0.")
		for range -point {
			b.WriteByte('0')
		}
		b.WriteString(d.digits)
	}
	return b.String()
}

// canonicalNumber validates n as DynamoDB does and returns its canonical
// spelling: n itself, without allocating, when it already is canonical.
func canonicalNumber(n string) (string, error) {
	sc, ok := scanNumber(n)
	if !ok {
		return "", &valueError{msgNumberSyntax + ": " + n}
	}
	if err := sc.check(); err != nil {
		return "", err
	}
	if isCanonicalSpelling(n) {
		return n, nil
	}
	return sc.decimal().String(), nil
}

// isCanonicalSpelling reports whether n, a valid number, is spelled as
// decimal.String spells it: -?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?, not -0.
func isCanonicalSpelling(n string) bool {
	i := 0
	if i < len(n) && n[i] == '-' {
		i++
	}
	switch {
	case i == len(n):
		return false
	case n[i] == '0':
		i++
		if i == len(n) {
			return n[0] != '-' // "0" yes, "-0" no
		}
		if n[i] != '.' {
			return false // leading zero
		}
	case isDigit(n[i]):
		for i < len(n) && isDigit(n[i]) {
			i++
		}
		if i == len(n) {
			return true
		}
		if n[i] != '.' {
			return false // exponent
		}
	default:
		return false // ".5", "+1"
	}
	// n[i] == '.'
	i++
	start := i
	for i < len(n) && isDigit(n[i]) {
		i++
	}
	// A fraction ending in a non-zero digit: "0.10" and "-0.0" are not
	// canonical, "-0.5" is.
	return i == len(n) && i > start && n[i-1] != '0'
}

// addNumbers returns a+b (or a-b with negate) computed exactly, as
// DynamoDB does, in canonical spelling. A result DynamoDB cannot store is
// refused with DynamoDB's message; for more than 38 significant digits
// DynamoDB reports an overflow (1e50 + 1), and so does this.
func addNumbers(a, b string, negate bool) (string, error) {
	x, ok1 := parseNumber(a)
	y, ok2 := parseNumber(b)
	if !ok1 || !ok2 {
		bad := a
		if ok1 {
			bad = b
		}
		return "", &valueError{msgNumberSyntax + ": " + bad}
	}
	if negate {
		y.neg = !y.neg
	}
	if x.digits == "" {
		x, y = y, x
	}
	if y.digits == "" {
		if err := x.check(); err != nil {
			return "", err
		}
		return x.String(), nil
	}
	// Stored numbers are within range, so the exponents differ by at most
	// ~300: the aligned coefficients stay small.
	if x.adjustedExp() > maxNumberExponent || y.adjustedExp() > maxNumberExponent ||
		x.exp < minNumberExponent-maxNumberDigits || y.exp < minNumberExponent-maxNumberDigits {
		return "", &valueError{msgNumberOverflow}
	}
	exp := min(x.exp, y.exp)
	sum := new(big.Int).Add(x.scaled(exp), y.scaled(exp))
	r := decimalFromBig(sum, exp)
	if r.digits != "" && len(r.digits) > maxNumberDigits {
		return "", &valueError{msgNumberOverflow}
	}
	if err := r.check(); err != nil {
		return "", err
	}
	return r.String(), nil
}

// scaled is d's coefficient times 10^(d.exp-exp), with d's sign.
func (d decimal) scaled(exp int) *big.Int {
	v, _ := new(big.Int).SetString(d.digits, 10)
	if shift := d.exp - exp; shift > 0 {
		v.Mul(v, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(shift)), nil))
	}
	if d.neg {
		v.Neg(v)
	}
	return v
}

// decimalFromBig is v × 10^exp with trailing zeros moved to the exponent.
func decimalFromBig(v *big.Int, exp int) decimal {
	if v.Sign() == 0 {
		return decimal{}
	}
	s := v.String()
	d := decimal{}
	if s[0] == '-' {
		d.neg, s = true, s[1:]
	}
	t := strings.TrimRight(s, "0")
	d.digits, d.exp = t, exp+len(s)-len(t)
	return d
}
