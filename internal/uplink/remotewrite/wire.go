package remotewrite

import (
	"math"
	"slices"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
)

// label is one name/value pair of a series.
type label struct{ name, value string }

// Field numbers of prometheus.WriteRequest (remote.proto) and its
// messages (types.proto).
const (
	fieldTimeseries = 1 // WriteRequest.timeseries
	fieldLabels     = 1 // TimeSeries.labels
	fieldSamples    = 2 // TimeSeries.samples
	fieldName       = 1 // Label.name
	fieldValue      = 2 // Label.value
	fieldSampleVal  = 1 // Sample.value (double)
	fieldSampleTS   = 2 // Sample.timestamp (int64, ms)
)

// appendSeries appends one WriteRequest.timeseries with one sample. A
// series encoded alone is itself a valid WriteRequest, and concatenated
// WriteRequests merge into one (repeated fields append), so queue entries
// can be concatenated into a request body as they are. ls must be sorted
// by name (remote write 1.0 requires it).
func appendSeries(dst []byte, ls []label, v float64, tsMillis int64) []byte {
	size := 0
	for _, l := range ls {
		n := labelSize(l)
		size += 1 + protowire.SizeVarint(uint64(n)) + n
	}
	ss := sampleSize(tsMillis)
	size += 1 + protowire.SizeVarint(uint64(ss)) + ss
	dst = protowire.AppendTag(dst, fieldTimeseries, protowire.BytesType)
	dst = protowire.AppendVarint(dst, uint64(size))
	for _, l := range ls {
		dst = protowire.AppendTag(dst, fieldLabels, protowire.BytesType)
		dst = protowire.AppendVarint(dst, uint64(labelSize(l)))
		dst = protowire.AppendTag(dst, fieldName, protowire.BytesType)
		dst = protowire.AppendString(dst, l.name)
		dst = protowire.AppendTag(dst, fieldValue, protowire.BytesType)
		dst = protowire.AppendString(dst, l.value)
	}
	dst = protowire.AppendTag(dst, fieldSamples, protowire.BytesType)
	dst = protowire.AppendVarint(dst, uint64(ss))
	dst = protowire.AppendTag(dst, fieldSampleVal, protowire.Fixed64Type)
	dst = protowire.AppendFixed64(dst, math.Float64bits(v))
	dst = protowire.AppendTag(dst, fieldSampleTS, protowire.VarintType)
	return protowire.AppendVarint(dst, uint64(tsMillis))
}

func labelSize(l label) int {
	return 1 + protowire.SizeBytes(len(l.name)) + 1 + protowire.SizeBytes(len(l.value))
}

func sampleSize(ts int64) int { return 1 + 8 + 1 + protowire.SizeVarint(uint64(ts)) }

// sortLabels sorts by name unless already sorted.
func sortLabels(ls []label) {
	if !slices.IsSortedFunc(ls, cmpLabel) {
		slices.SortFunc(ls, cmpLabel)
	}
}

func cmpLabel(a, b label) int { return strings.Compare(a.name, b.name) }
