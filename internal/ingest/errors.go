package ingest

import (
	"errors"
	"fmt"
)

// Rejection reasons. The set is small and fixed so that a caller can use the
// reason as a metric label (see Reasons).
const (
	// ReasonTooLarge: the payload exceeds Config.MaxPayloadBytes.
	ReasonTooLarge = "too_large"
	// ReasonEmpty: the payload is empty, only whitespace, or (line protocol)
	// only comments. An empty publish is how MQTT clears a retained message.
	ReasonEmpty = "empty_payload"
	// ReasonBadTopic: the topic is empty, not UTF-8, contains a wildcard or
	// NUL, or a topic level used for the measurement or a tag is empty.
	ReasonBadTopic = "bad_topic"
	// ReasonUnknownTopic: no mapping matches the topic.
	ReasonUnknownTopic = "unknown_topic"
	// ReasonBadJSON: a JSON payload is malformed, truncated, not UTF-8, or
	// nested deeper than maxJSONDepth.
	ReasonBadJSON = "bad_json"
	// ReasonNotNumeric: the payload is neither a JSON object nor a bare
	// number or boolean (for example a JSON string, array or null, or text).
	ReasonNotNumeric = "not_numeric"
	// ReasonNoNumericField: a JSON object or a line-protocol line has no
	// numeric (or boolean) field.
	ReasonNoNumericField = "no_numeric_field"
	// ReasonOutOfRange: a number does not fit the target type (float64
	// overflow, line-protocol integer overflow).
	ReasonOutOfRange = "out_of_range"
	// ReasonBadTimestamp: a timestamp is malformed or outside
	// [2000-01-01, 2262-04-11] (the int64 nanosecond range).
	ReasonBadTimestamp = "bad_timestamp"
	// ReasonBadLineProtocol: a line-protocol line is malformed.
	ReasonBadLineProtocol = "bad_line_protocol"
)

// Reasons returns every rejection reason, for example to initialise a
// Prometheus counter vector with all its label values.
func Reasons() []string {
	return []string{
		ReasonTooLarge, ReasonEmpty, ReasonBadTopic, ReasonUnknownTopic,
		ReasonBadJSON, ReasonNotNumeric, ReasonNoNumericField,
		ReasonOutOfRange, ReasonBadTimestamp, ReasonBadLineProtocol,
	}
}

// Rejection is the error returned for a message (or one line of a
// line-protocol batch) that produced no point. Reason is one of the Reason
// constants; Topic is empty when a decoder is used without the Router.
type Rejection struct {
	Reason string
	Topic  string
	Err    error
}

func (r *Rejection) Error() string {
	msg := "ingest: " + r.Reason
	if r.Topic != "" {
		msg += fmt.Sprintf(" (topic %q)", r.Topic)
	}
	if r.Err != nil {
		msg += ": " + r.Err.Error()
	}
	return msg
}

func (r *Rejection) Unwrap() error { return r.Err }

// Rejections returns every *Rejection in err: err itself, or each member of
// an errors.Join (Route joins one Rejection per bad line of a batch).
func Rejections(err error) []*Rejection {
	var out []*Rejection
	var walk func(error)
	walk = func(e error) {
		if r, ok := e.(*Rejection); ok {
			out = append(out, r)
			return
		}
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, m := range j.Unwrap() {
				walk(m)
			}
			return
		}
		var r *Rejection
		if errors.As(e, &r) {
			out = append(out, r)
		}
	}
	walk(err)
	return out
}

// reject builds a Rejection without a topic (the Router fills it in).
func reject(reason string, format string, args ...any) *Rejection {
	return &Rejection{Reason: reason, Err: fmt.Errorf(format, args...)}
}
