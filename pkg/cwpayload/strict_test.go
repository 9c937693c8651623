package cwpayload

import (
	"context"
	"strings"
	"testing"
)

// decodeDoc decodes one plain (not gzip) record holding doc.
func decodeDoc(t *testing.T, doc string) RecordResult {
	t.Helper()
	st := &Stamp{Drain: "d", Region: "us-east-2"}
	return NewDecoder(DefaultLimits()).DecodeRecords(context.Background(), [][]byte{b64([]byte(doc))}, st, 1)[0]
}

func dataDoc(events string) string {
	return `{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"g","logStream":"s","logEvents":[` + events + `]}`
}

// TestEventsWithoutAnIdRejectTheRecord pins defect 5 of issue 14: events with no id, or
// "id":"", all had one identity, so five distinct errors answered 200 and counted 1. Now the
// record is rejected (400) naming the event.
func TestEventsWithoutAnIdRejectTheRecord(t *testing.T) {
	for _, ev := range []string{
		`{"timestamp":1,"message":"ERROR a"}`,
		`{"id":"","timestamp":1,"message":"ERROR a"}`,
		`{"id":null,"timestamp":1,"message":"ERROR a"}`,
	} {
		r := decodeDoc(t, dataDoc(`{"id":"1","timestamp":1,"message":"ERROR first"},`+ev))
		if r.Err == nil || r.Err.Reason != "log event 1 has no id" {
			t.Errorf("%s: err = %v, want the record rejected: log event 1 has no id", ev, r.Err)
		}
	}
	// A control message's single event has id "": it is not a data event, and is accepted.
	r := decodeDoc(t, `{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","subscriptionFilters":[],"logEvents":[{"id":"","timestamp":1,"message":"CWL CONTROL MESSAGE"}]}`)
	if r.Err != nil || !r.Control {
		t.Errorf("control message: %v", r.Err)
	}
}

// TestNumericAndStringIdsDiffer pins part of defect 6: the id 5 and the id "5" are kept
// apart (the event says which it was; pkg/event hashes it into the identity).
func TestNumericAndStringIdsDiffer(t *testing.T) {
	r := decodeDoc(t, dataDoc(`{"id":5,"timestamp":1,"message":"ERROR a"},{"id":"5","timestamp":1,"message":"ERROR a"}`))
	if r.Err != nil || len(r.Errors) != 2 {
		t.Fatalf("err=%v errors=%d", r.Err, len(r.Errors))
	}
	if !r.Errors[0].IDIsNumber || r.Errors[1].IDIsNumber || r.Errors[0].ID != "5" || r.Errors[1].ID != "5" {
		t.Errorf("ids: %+v / %+v", r.Errors[0], r.Errors[1])
	}
	if r.Errors[0].Identity() == r.Errors[1].Identity() {
		t.Error("the id 5 and the id \"5\" share an identity")
	}
}

// TestRepeatedMembersRejectTheRecord pins the duplicate-key decision (docs/design.md
// section 4): a member the decoder reads, given twice in one object, rejects the record
// (before, a repeated logEvents counted its events twice). Repeated members it ignores are
// fine.
func TestRepeatedMembersRejectTheRecord(t *testing.T) {
	ev := `{"id":"1","timestamp":1,"message":"ERROR a"}`
	cases := map[string]string{
		"logEvents":    `{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","logEvents":[` + ev + `],"logEvents":[` + ev + `]}`,
		"messageType":  `{"messageType":"DATA_MESSAGE","messageType":"CONTROL_MESSAGE","logEvents":[]}`,
		"owner":        `{"messageType":"DATA_MESSAGE","owner":"1","owner":"2","logEvents":[]}`,
		"logStream":    `{"messageType":"DATA_MESSAGE","logStream":"a","logStream":"b","logEvents":[]}`,
		"id":           dataDoc(`{"id":"1","id":"2","message":"ERROR a"}`),
		"message":      dataDoc(`{"id":"1","message":"INFO a","message":"ERROR a"}`),
		"timestamp":    dataDoc(`{"id":"1","timestamp":1,"timestamp":2,"message":"ERROR a"}`),
		"@aws.region":  dataDoc(`{"id":"1","@aws.region":"us-east-1","@aws.region":"us-east-2"}`),
		"extracted":    dataDoc(`{"id":"1","extractedFields":{"@aws.account":"1","@aws.account":"2"}}`),
		"escaped name": `{"messageType":"DATA_MESSAGE","logEvents":[],"log\u0045vents":[]}`,
	}
	for name, doc := range cases {
		if r := decodeDoc(t, doc); r.Err == nil || !strings.Contains(r.Err.Reason, "repeated") {
			t.Errorf("%s: err = %v, want a repeated member rejected", name, r.Err)
		}
	}
	r := decodeDoc(t, `{"messageType":"DATA_MESSAGE","x":1,"x":2,"owner":"1","logGroup":"g","logStream":"s","logEvents":[{"id":"1","y":[],"y":{},"message":"ERROR a"}]}`)
	if r.Err != nil || len(r.Errors) != 1 {
		t.Errorf("repeated ignored members: %v", r.Err)
	}
}

// TestMembersAreReadAsEncodingJSONReadsThem: escaped member names and values are
// unescaped, null is a member left out, a member of the wrong type rejects the record, and
// only valid JSON passes (raw control characters, bad escapes, malformed numbers).
func TestMembersAreReadAsEncodingJSONReadsThem(t *testing.T) {
	t.Run("escaped names and values", func(t *testing.T) {
		r := decodeDoc(t, `{"message\u0054ype":"DATA\u005fMESSAGE","owner":"1","logGroup":"g","logStream":"s","log\u0045vents":[{"\u0069d":"1","mess\u0061ge":"ERROR a"}]}`)
		if r.Err != nil || len(r.Errors) != 1 || r.Errors[0].ID != "1" || r.Errors[0].Message != "ERROR a" {
			t.Errorf("err=%v errors=%+v", r.Err, r.Errors)
		}
	})
	t.Run("null is left out", func(t *testing.T) {
		r := decodeDoc(t, `{"messageType":"DATA_MESSAGE","owner":null,"logGroup":"g","logStream":"s","logEvents":[{"id":"1","timestamp":null,"message":"ERROR a","extractedFields":null,"@aws.region":null}]}`)
		if r.Err != nil || len(r.Errors) != 1 || r.Errors[0].Account != "" || r.Errors[0].Timestamp != 0 || r.Errors[0].Region != "us-east-2" {
			t.Errorf("err=%v errors=%+v", r.Err, r.Errors)
		}
		if r := decodeDoc(t, `{"messageType":null,"logEvents":[]}`); r.Err == nil || r.Err.Reason != notCW+": no messageType" {
			t.Errorf("null messageType: %v", r.Err)
		}
		if r := decodeDoc(t, `{"messageType":"DATA_MESSAGE","logEvents":null}`); r.Err == nil || r.Err.Reason != notCW+": no logEvents" {
			t.Errorf("null logEvents: %v", r.Err)
		}
	})
	bad := map[string]string{
		"owner a number":             `{"messageType":"DATA_MESSAGE","owner":1,"logEvents":[]}`,
		"message a number":           dataDoc(`{"id":"1","message":5}`),
		"id an object":               dataDoc(`{"id":{},"message":"ERROR a"}`),
		"timestamp a string":         dataDoc(`{"id":"1","timestamp":"5","message":"ERROR a"}`),
		"timestamp out of range":     dataDoc(`{"id":"1","timestamp":1e400,"message":"INFO a"}`),
		"timestamp past int64":       dataDoc(`{"id":"1","timestamp":9223372036854775808,"message":"INFO a"}`),
		"extractedFields an array":   dataDoc(`{"id":"1","extractedFields":[]}`),
		"event null":                 dataDoc(`null`),
		"raw tab in an info message": dataDoc("{\"id\":\"1\",\"message\":\"INFO\ta\"}"),
		"bad escape, info message":   dataDoc(`{"id":"1","message":"INFO \x"}`),
		"bad escape, ignored member": dataDoc(`{"id":"1","other":"\x","message":"INFO a"}`),
		"leading zero, ignored":      dataDoc(`{"id":"1","n":01}`),
		"bad number, timestamp":      dataDoc(`{"id":"1","timestamp":1.,"message":"INFO a"}`),
		"control event not object":   `{"messageType":"CONTROL_MESSAGE","logEvents":[1]}`,
	}
	for name, doc := range bad {
		if r := decodeDoc(t, doc); r.Err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	t.Run("int64 timestamps exactly", func(t *testing.T) {
		r := decodeDoc(t, dataDoc(`{"id":"1","timestamp":-9223372036854775808,"message":"ERROR a"},{"id":"2","timestamp":1234567890123456789,"message":"ERROR a"},{"id":"3","timestamp":1.9e3,"message":"ERROR a"}`))
		if r.Err != nil || len(r.Errors) != 3 || r.Errors[0].Timestamp != -9223372036854775808 || r.Errors[1].Timestamp != 1234567890123456789 || r.Errors[2].Timestamp != 1900 {
			t.Errorf("err=%v errors=%+v", r.Err, r.Errors)
		}
	})
}

// TestRegionsAreValidatedBeforeUse pins defect 9 of issue 14 for the decoder: an
// @aws.region that is not AWS region syntax is ignored, so it never reaches a console link.
func TestRegionsAreValidatedBeforeUse(t *testing.T) {
	r := decodeDoc(t, dataDoc(`{"id":"1","message":"ERROR a","@aws.region":"evil.example/phish#"},`+
		`{"id":"2","message":"ERROR a","extractedFields":{"@aws.region":"eu-west-1"}},`+
		`{"id":"3","message":"ERROR a","extractedFields":{"@aws.region":"x"},"@aws.region":"ap-south-2"}`))
	if r.Err != nil || len(r.Errors) != 3 {
		t.Fatalf("err=%v", r.Err)
	}
	if got := []string{r.Errors[0].Region, r.Errors[1].Region, r.Errors[2].Region}; got[0] != "us-east-2" || got[1] != "eu-west-1" || got[2] != "ap-south-2" {
		t.Errorf("regions %q, want the stream's for the bad one", got)
	}
}
