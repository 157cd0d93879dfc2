package protocol

import "strconv"

// WebmanUserID returns a user id typed as webman/push's server sends it.
// That server keeps members in a PHP array keyed by user id, and PHP turns
// a key that is a canonical decimal integer ("1", "-7", never "01" or
// "+1") within int64 into an integer: such ids come back as JSON numbers,
// all others as strings.
func WebmanUserID(id string) any {
	if id == "" || id == "-0" || (len(id) > 1 && id[0] == '0') || (len(id) > 2 && id[0] == '-' && id[1] == '0') {
		return id
	}
	if id[0] == '+' {
		return id
	}
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return id
	}
	return n
}
