package sources

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/klauspost/compress/gzip"

	"github.com/aient/firehose-drain/pkg/drains"
	"github.com/aient/firehose-drain/pkg/ingest"
)

// Replay re-delivers objects that Firehose wrote to S3, through the same pipeline, bound to
// a drain, booked under the replay source kind:
//
//   - Firehose's S3 backup of failed deliveries (HTTP endpoint destination, S3 backup mode
//     FailedDataOnly or AllData): JSON lines, one per record Firehose could not deliver,
//     {"attemptsMade":N,"arrivalTimestamp":ms,"errorCode":"HttpEndpoint.…","errorMessage":"…",
//     "attemptEndingTimestamp":ms,"rawData":"<the record's data, base64>",…}. rawData is what
//     the endpoint would have received as the record's data, so it takes the Firehose decoder
//     path. (The format-conversion variant names the fields lastErrorCode/lastErrorMessage:
//     both are read.)
//   - plain Firehose-to-S3 objects: the records' data concatenated (gzip members, or plain
//     documents), which take the streaming decoder, as the S3 source does.
//
// The format is told by the first line of the (inflated) object: a JSON object with a
// rawData member is a backup object. Replaying an object twice sends nothing new: every
// event identity is claimed once.

// ReplayLineBatch is how many backup lines are delivered together.
const ReplayLineBatch = 500

// maxReplayLine caps one backup line: a record is at most 1,024,000 bytes, ~1.4 MB in base64.
const maxReplayLine = 4 << 20

// Replayed is what replaying one object did. Its JSON is part of `aient replay --json`.
type Replayed struct {
	Object string `json:"object"`
	// Format is "firehose-backup" or "documents".
	Format      string `json:"format"`
	Records     int    `json:"records"` // backup lines, or documents
	Events      int    `json:"events"`
	ErrorEvents int    `json:"errorEvents"`
	Sent        int    `json:"sent"`
	Duplicates  int    `json:"duplicates"`
	Rejected    int    `json:"rejected"` // corrupt lines, records or documents that cannot decode
	// FirehoseErrors counts the backup lines by the error Firehose recorded for them.
	FirehoseErrors map[string]int `json:"firehoseErrors,omitempty"`
	// Problems names the rejected lines and documents (at most ingest.MaxStreamErrors).
	Problems []string `json:"problems,omitempty"`
	// Err is set when the object must be replayed again (a store or the queue failed, or
	// a concurrent delivery held events); what was sent stays sent.
	Err string `json:"error,omitempty"`
}

func (r *Replayed) problem(s string) {
	r.Rejected++
	if len(r.Problems) < ingest.MaxStreamErrors {
		r.Problems = append(r.Problems, s)
	}
}

// backupLine is one line of a Firehose failed-delivery backup object.
type backupLine struct {
	RawData          *string `json:"rawData"`
	ErrorCode        string  `json:"errorCode"`
	LastErrorCode    string  `json:"lastErrorCode"`
	AttemptsMade     int64   `json:"attemptsMade"`
	ArrivalTimestamp int64   `json:"arrivalTimestamp"`
}

// ReplayObject replays one object (name is how errors and the summary name it).
func ReplayObject(ctx context.Context, p Pipeline, drain, region, name string, r io.Reader) Replayed {
	out := Replayed{Object: name}
	binding := ingest.Binding{Source: drains.SourceReplay, Drain: drain}
	br := bufio.NewReaderSize(r, 64<<10)
	src := br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			out.Format = "documents"
			out.problem(fmt.Sprintf("%s: unreadable gzip: %v", name, err))
			return out
		}
		defer func() { _ = gz.Close() }() // read only: Close reports nothing new
		src = bufio.NewReaderSize(gz, 64<<10)
	}
	if isBackup(src) {
		return replayBackup(ctx, p, binding, region, name, src, out)
	}
	out.Format = "documents"
	res := p.DeliverStream(ctx, binding, region, name, src)
	out.Records, out.Events, out.ErrorEvents = res.Documents, res.Events, res.ErrorEvents
	out.Sent, out.Duplicates, out.Rejected = res.Sent, res.Duplicates, res.Rejected
	for _, e := range res.Errors {
		out.Problems = append(out.Problems, e.Error())
	}
	if res.Err != nil {
		out.Err = res.Err.Error()
	}
	return out
}

// isBackup peeks at the first line: a JSON object with a rawData member.
func isBackup(br *bufio.Reader) bool {
	head, _ := br.Peek(64 << 10)
	head = bytes.TrimLeft(head, " \t\r\n")
	if len(head) == 0 || head[0] != '{' {
		return false
	}
	line := head
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		line = head[:i]
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(line, &probe); err == nil {
		_, ok := probe["rawData"]
		return ok
	}
	// A long first line: rawData's key, unescaped, before any messageType.
	return bytes.Contains(line, []byte(`"rawData":`)) && !bytes.Contains(line, []byte(`"messageType"`))
}

func replayBackup(ctx context.Context, p Pipeline, b ingest.Binding, region, name string, br *bufio.Reader, out Replayed) Replayed {
	out.Format = "firehose-backup"
	var batch []ingest.Item
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		res := p.Deliver(ctx, ingest.Batch{Binding: b, Base64: true, Region: region, RequestID: name, Items: batch})
		batch = nil
		out.Events += res.Events
		out.ErrorEvents += res.ErrorEvents
		out.Sent += res.Sent
		out.Duplicates += res.Duplicates
		if res.Err != nil {
			return res.Err
		}
		var retry error
		for _, it := range res.Items {
			switch {
			case it.Err != nil && it.Retry:
				retry = it.Err
			case it.Err != nil:
				out.problem(it.Err.Error())
			}
		}
		return retry
	}
	lineNo := 0
	for {
		if err := ctx.Err(); err != nil {
			out.Err = err.Error()
			return out
		}
		line, err := readLine(br)
		if len(bytes.TrimSpace(line)) > 0 {
			lineNo++
			out.Records++
			id := name + ":" + strconv.Itoa(lineNo)
			var bl backupLine
			switch jerr := json.Unmarshal(line, &bl); {
			case errors.Is(err, errLongLine):
				out.problem(fmt.Sprintf("%s: line over %d bytes", id, maxReplayLine))
			case jerr != nil:
				out.problem(fmt.Sprintf("%s: not a Firehose backup line: %v", id, jerr))
			case bl.RawData == nil:
				out.problem(id + ": no rawData")
			default:
				code := bl.ErrorCode
				if code == "" {
					code = bl.LastErrorCode
				}
				if code != "" {
					if out.FirehoseErrors == nil {
						out.FirehoseErrors = map[string]int{}
					}
					out.FirehoseErrors[code]++
				}
				batch = append(batch, ingest.Item{ID: id, Data: []byte(*bl.RawData)})
				if len(batch) >= ReplayLineBatch {
					if ferr := flush(); ferr != nil {
						out.Err = ferr.Error()
						return out
					}
				}
			}
		}
		if errors.Is(err, errLongLine) {
			continue
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				out.problem(fmt.Sprintf("%s: read after line %d: %v", name, lineNo, err))
			}
			break
		}
	}
	if err := flush(); err != nil {
		out.Err = err.Error()
	}
	return out
}

var errLongLine = errors.New("line too long")

// readLine reads one line without its newline; a line over maxReplayLine is skipped to its
// end and reported with errLongLine.
func readLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(line)+len(chunk) > maxReplayLine {
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			if err != nil && !errors.Is(err, io.EOF) {
				return nil, err
			}
			return []byte("x"), errLongLine
		}
		line = append(line, chunk...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return bytes.TrimRight(line, "\r\n"), err
	}
}
