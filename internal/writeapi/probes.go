package writeapi

import (
	"encoding/json"
	"net/http"
	"regexp"
)

// ping answers InfluxDB 1.x clients' liveness probe.
func (a *API) ping(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("X-Influxdb-Version", "borda-"+a.d.Version)
	w.Header().Set("X-Influxdb-Build", "borda")
	w.WriteHeader(http.StatusNoContent)
}

// health answers InfluxDB 2.x clients' health check.
func (a *API) health(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"name": "borda", "status": "pass",
		"message": "ready for line protocol writes", "version": a.d.Version})
}

var createDatabase = regexp.MustCompile(`(?i)^\s*CREATE\s+DATABASE\s+\S+`)

// query accepts the CREATE DATABASE that Telegraf and InfluxDB 1.x
// clients send before writing (borda has no databases: every write goes to
// the one store) and refuses any other InfluxQL, pointing to PromQL.
func (a *API) query(w http.ResponseWriter, r *http.Request) {
	if createDatabase.MatchString(r.FormValue("q")) {
		writeJSON(w, http.StatusOK, map[string]any{"results": []map[string]int{{"statement_id": 0}}})
		return
	}
	writeJSON(w, http.StatusBadRequest, map[string]string{"error": "borda does not run InfluxQL; " +
		"query with PromQL at /api/v1/query (Prometheus HTTP API)"})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
