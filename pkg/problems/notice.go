package problems

import (
	"fmt"
	"strconv"
	"time"
)

// Notice is an outbox item: one alerting transition of a problem, written by the store in
// the same atomic write that decided it, and delivered to the alert destinations
// afterwards (pkg/alerts). Its ID is the exactly-once key of the transition: a write
// retried after an unknown outcome writes the same ID, and destinations get it to
// deduplicate redeliveries.
type Notice struct {
	ID         string     `json:"id"`
	Transition Transition `json:"transition"`
	At         time.Time  `json:"at"`
	// CountLastHour is the problem's last-hour count when it transitioned.
	CountLastHour int64 `json:"countLastHour"`
	// Problem is the problem as the transition left it (without hourly buckets, the
	// sample message cut to MaxNoticeMessage bytes).
	Problem Problem `json:"problem"`
}

// MaxNoticeMessage bounds the sample message a notice keeps: alerts show a few lines.
const MaxNoticeMessage = 4 << 10

// NoticeOf is the notice of transition tr of p at now. Two alerts of one transition of
// one problem are at least AlertEvery apart, so the id (problem, transition, time) is
// unique.
func NoticeOf(p Problem, tr Transition, now time.Time) Notice {
	last := LastHour(p.Hourly, now)
	p.Hourly = nil
	p.AlertedAt = nil
	p.LogGroups = append([]string(nil), p.LogGroups...)
	p.Sample.Frames = append([]Frame(nil), p.Sample.Frames...)
	p.Sample.Message = cutUTF8(p.Sample.Message, MaxNoticeMessage)
	return Notice{
		ID:            fmt.Sprintf("%s-%s-%s", p.ID, tr, strconv.FormatInt(now.UnixMilli(), 36)),
		Transition:    tr,
		At:            now,
		CountLastHour: last,
		Problem:       p,
	}
}

// cutUTF8 cuts s to at most n bytes on a rune boundary.
func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
