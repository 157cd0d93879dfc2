package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"

	"github.com/pushd/pushd/gateway/protocol"
	"github.com/pushd/pushd/presence"
)

// parseMember reads a presence subscription's channel_data. It returns the
// subscription_error type with an error.
func parseMember(a *app, channelData string) (presence.Member, string, error) {
	var cd struct {
		UserID   json.RawMessage `json:"user_id"`
		UserInfo json.RawMessage `json:"user_info"`
	}
	if err := json.Unmarshal([]byte(channelData), &cd); err != nil {
		return presence.Member{}, "InvalidChannelData", errors.New("channel_data must be a JSON object with user_id (and user_info): return it from the auth endpoint")
	}
	id, err := userIDString(cd.UserID)
	if err != nil {
		return presence.Member{}, "InvalidChannelData", err
	}
	if len(id) > a.MaxUserIDLength {
		return presence.Member{}, "LimitReached", errors.New("user_id is longer than " + itoa(a.MaxUserIDLength) + " characters (max_user_id_length): use a shorter id")
	}
	info := bytes.TrimSpace(cd.UserInfo)
	if len(info) > a.MaxUserInfoBytes {
		return presence.Member{}, "LimitReached", errors.New("user_info is larger than " + itoa(a.MaxUserInfoBytes) + " bytes (max_user_info_bytes): send less in user_info")
	}
	if string(info) == "null" {
		info = nil
	}
	return presence.Member{UserID: id, UserInfo: info}, "", nil
}

// userIDString accepts a user_id given as a string or a number.
func userIDString(raw json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		if s == "" {
			return "", errors.New("user_id in channel_data is empty: the auth endpoint must give each user an id")
		}
		return s, nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err == nil {
		return n.String(), nil
	}
	return "", errors.New("user_id in channel_data must be a string or a number: the auth endpoint sets it")
}

// presenceData is the subscription_succeeded data of a presence channel:
// the cluster's unique members, including the new one, and the presence
// revision the list reflects.
func (f *frames) presenceData(app, ch string, self presence.Member) (string, uint64) {
	members, rev := f.presence.MembersAt(app, ch)
	found := false
	for _, m := range members {
		found = found || m.UserID == self.UserID
	}
	if !found {
		members = append(members, self)
	}
	var b []byte
	b = append(b, `{"presence":{"ids":[`...)
	for i, m := range members {
		if i > 0 {
			b = append(b, ',')
		}
		b = protocol.AppendJSONString(b, m.UserID)
	}
	b = append(b, `],"hash":{`...)
	for i, m := range members {
		if i > 0 {
			b = append(b, ',')
		}
		b = protocol.AppendJSONString(b, m.UserID)
		b = append(b, ':')
		b = appendInfo(b, m.UserInfo)
	}
	b = append(b, `},"count":`...)
	b = strconv.AppendInt(b, int64(len(members)), 10)
	return string(append(b, `}}`...)), rev
}

func appendInfo(b []byte, info json.RawMessage) []byte {
	if len(info) == 0 {
		return append(b, "null"...)
	}
	return append(b, info...)
}
