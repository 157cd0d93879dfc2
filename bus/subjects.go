package bus

import "strings"

// Subject scheme (every user-supplied part goes through EncodeToken):
//
//	pushd.{app}.ev.{channel}   events, stored in the app's stream
//	pushd.{app}.out.{channel}  the stream's RePublish of each stored event
//	pushd.{app}.ctl.{kind}     control messages between nodes (core NATS)
const subjectRoot = "pushd"

func eventSubject(appTok, chTok string) string { return subjectRoot + "." + appTok + ".ev." + chTok }
func outSubject(appTok, chTok string) string   { return subjectRoot + "." + appTok + ".out." + chTok }
func controlSubject(appTok, kind string) string {
	return subjectRoot + "." + appTok + ".ctl." + kind
}

// streamName is the JetStream stream that stores one app's events.
func streamName(appTok string) string { return "PUSHD_" + appTok }

// splitOut parses "pushd.{app}.out.{channel}" into its decoded parts.
func splitOut(subject string) (app, channel string, ok bool) {
	parts := strings.Split(subject, ".")
	if len(parts) != 4 || parts[0] != subjectRoot || parts[2] != "out" {
		return "", "", false
	}
	a, err1 := DecodeToken(parts[1])
	c, err2 := DecodeToken(parts[3])
	return a, c, err1 == nil && err2 == nil
}
