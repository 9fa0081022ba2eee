package rules

// SeedRules are the seed collector's real-time alerts (its
// process_real_time_alerts): critical, requiring action, published to
// alerts/critical by the default actions. testdata/seed-rules.yaml holds
// the same rules as a rules file.
func SeedRules() []Rule {
	return []Rule{
		{
			Name: "high_temperature", Type: "HIGH_TEMPERATURE", Severity: SeverityCritical,
			Match:     Match{Topic: "sensors/+/temperature"},
			Condition: "value > 80", RequiresAction: true,
		},
		{
			Name: "high_pressure", Type: "HIGH_PRESSURE", Severity: SeverityCritical,
			Match:     Match{Topic: "sensors/+/pressure"},
			Condition: "value > 100", RequiresAction: true,
		},
		{
			Name: "overspeed", Type: "SPEEDING", Severity: SeverityCritical,
			Match: Match{Topic: "vehicles/+/location"}, Field: "speed",
			Condition: "speed > 120", RequiresAction: true,
		},
	}
}
