package modem

import (
	"testing"

	"github.com/godbus/dbus/v5"
)

func TestDecode(t *testing.T) {
	tests := []struct {
		name  string
		modem map[string]dbus.Variant
		g3pp  map[string]dbus.Variant
		want  Status
	}{
		{"connected 5G roaming", map[string]dbus.Variant{
			"PrimaryPort": dbus.MakeVariant("cdc-wdm0"), "Manufacturer": dbus.MakeVariant("Quectel"),
			"Model": dbus.MakeVariant("RM500Q"), "State": dbus.MakeVariant(int32(11)),
			"SignalQuality":      dbus.MakeVariant([]any{uint32(87), false}),
			"AccessTechnologies": dbus.MakeVariant(uint32(1<<14 | 1<<15)),
		}, map[string]dbus.Variant{"RegistrationState": dbus.MakeVariant(uint32(5)), "OperatorName": dbus.MakeVariant("Vivo")},
			Status{Path: "/m/3", Name: "cdc-wdm0", Manufacturer: "Quectel", Model: "RM500Q", State: "connected",
				SignalPercent: 87, AccessTech: "lte+5gnr", Registration: "roaming", Operator: "Vivo"}},
		{"failed, no 3GPP interface", map[string]dbus.Variant{"State": dbus.MakeVariant(int32(-1))}, nil,
			Status{Path: "/m/3", Name: "modem3", State: "failed", Registration: "unknown"}},
		{"wrong types and out of range values are ignored", map[string]dbus.Variant{
			"PrimaryPort": dbus.MakeVariant(7), "State": dbus.MakeVariant(uint32(11)),
			"SignalQuality": dbus.MakeVariant([]any{uint32(250), true}), "AccessTechnologies": dbus.MakeVariant("lte"),
		}, map[string]dbus.Variant{"RegistrationState": dbus.MakeVariant(uint32(99))},
			Status{Path: "/m/3", Name: "modem3", State: "unknown", SignalPercent: 100, SignalRecent: true, Registration: "unknown"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := decode("/m/3", tt.modem, tt.g3pp); got != tt.want {
				t.Fatalf("\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// decode takes whatever the bus delivers: a D-Bus message body decoded by
// godbus into property maps must never panic it.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"State": <int32 11>, "AccessTechnologies": <uint32 16384>}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var props map[string]dbus.Variant
		if v, err := dbus.ParseVariant(string(b), dbus.Signature{}); err == nil {
			props, _ = v.Value().(map[string]dbus.Variant)
		}
		decode("/m/0", props, props)
	})
}

func TestFuzzSeedParses(t *testing.T) {
	v, err := dbus.ParseVariant(`{"State": <int32 11>, "AccessTechnologies": <uint32 16384>}`, dbus.Signature{})
	if err != nil {
		t.Fatal(err)
	}
	props, _ := v.Value().(map[string]dbus.Variant)
	if s := decode("/m/0", props, nil); s.State != "connected" || s.AccessTech != "lte" {
		t.Fatalf("%+v from %v", s, props)
	}
}
