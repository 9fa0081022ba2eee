package modem

import (
	"path"
	"strings"

	"github.com/godbus/dbus/v5"
)

// Names of ModemManager's enums (MMModemState, MMModem3gppRegistrationState,
// MMModemAccessTechnology bits), as mmcli prints them.
var (
	stateNames = map[int32]string{-1: "failed", 0: "unknown", 1: "initializing", 2: "locked", 3: "disabled",
		4: "disabling", 5: "enabling", 6: "enabled", 7: "searching", 8: "registered", 9: "disconnecting",
		10: "connecting", 11: "connected"}
	regNames = []string{"idle", "home", "searching", "denied", "unknown", "roaming", "home-sms-only",
		"roaming-sms-only", "emergency-only", "home-csfb-not-preferred", "roaming-csfb-not-preferred", "attached-rlos"}
	techNames = []string{"pots", "gsm", "gsm-compact", "gprs", "edge", "umts", "hsdpa", "hsupa", "hspa",
		"hspa-plus", "1xrtt", "evdo0", "evdoa", "evdob", "lte", "5gnr", "lte-cat-m", "lte-nb-iot"}
)

// decode turns the Modem and Modem3gpp property maps into a Status. Wrong
// or missing property types leave the field at its zero value.
func decode(p dbus.ObjectPath, m, g map[string]dbus.Variant) Status {
	s := Status{Path: string(p), Name: str(m, "PrimaryPort"), Manufacturer: str(m, "Manufacturer"),
		Model: str(m, "Model"), State: "unknown", Registration: "unknown", Operator: str(g, "OperatorName")}
	if s.Name == "" {
		s.Name = "modem" + path.Base(string(p))
	}
	if v, ok := m["State"].Value().(int32); ok {
		if n, ok := stateNames[v]; ok {
			s.State = n
		}
	}
	if v, ok := m["SignalQuality"].Value().([]any); ok && len(v) == 2 {
		q, _ := v[0].(uint32)
		s.SignalPercent = min(q, 100)
		s.SignalRecent, _ = v[1].(bool)
	}
	if v, ok := m["AccessTechnologies"].Value().(uint32); ok {
		var names []string
		for i, n := range techNames {
			if v&(1<<i) != 0 {
				names = append(names, n)
			}
		}
		s.AccessTech = strings.Join(names, "+")
	}
	if v, ok := g["RegistrationState"].Value().(uint32); ok && int(v) < len(regNames) {
		s.Registration = regNames[v]
	}
	return s
}

func str(m map[string]dbus.Variant, key string) string {
	s, _ := m[key].Value().(string)
	return s
}
