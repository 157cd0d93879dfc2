package config

// NATS limits what a client may send on one protocol line (max_control_line,
// 4096 bytes by default, and what every NATS server pushd may meet takes):
// a subject past it makes the server close the connection for good. Pushd
// builds subjects and KV keys from the app key, the channel name and the
// presence user id, each encoded so that a byte may take 3 (bus.EncodeToken).
// The longest are JetStream's direct reads of a webhook member state
// ("$JS.API.DIRECT.GET.KV_PUSHD_WEBHOOK_STATE.$KV.PUSHD_WEBHOOK_STATE.m.{app}.{channel}.{user}")
// and of a channel's last event, which names the app twice.
const (
	natsControlLine = 4096
	// subjectReserve is the room for everything in a protocol line but the
	// encoded names: verb, reply inbox, sizes, prefixes, stream and bucket
	// names, node and socket ids, with a margin of some 300 bytes.
	subjectReserve = 512
)

// MaxChannelNameLength is the largest max_channel_name_length an app with
// this key and max_user_id_length can have: its longest subject (app key
// twice, channel name and user id, every byte encoded as 3) then stays
// within NATS's control line.
func MaxChannelNameLength(appKey string, maxUserIDLength int) int {
	return (natsControlLine - subjectReserve - 2*3*len(appKey) - 3*maxUserIDLength) / 3
}

// validateSubjectRoom checks that an app's names always fit NATS subjects.
func validateSubjectRoom(a App) error {
	if a.MaxChannelNameLength < 0 || a.MaxUserIDLength < 0 {
		return fieldErr("max_channel_name_length", "app %q: max_channel_name_length and max_user_id_length must not be negative", a.Key)
	}
	max := MaxChannelNameLength(a.Key, a.MaxUserIDLength)
	if a.MaxChannelNameLength <= max {
		return nil
	}
	if max < 1 {
		return fieldErr("max_user_id_length", "app %q: max_user_id_length %d leaves no room for channel names in NATS's %d-byte subjects; lower it",
			a.Key, a.MaxUserIDLength, natsControlLine)
	}
	return fieldErr("max_channel_name_length", "app %q: max_channel_name_length %d is over %d, the most that keeps NATS subjects within NATS's %d-byte "+
		"control line with this app key and max_user_id_length %d", a.Key, a.MaxChannelNameLength, max, natsControlLine, a.MaxUserIDLength)
}
