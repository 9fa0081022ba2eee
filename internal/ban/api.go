package ban

import (
	"encoding/json"
	"net/http"
	"net/netip"
)

// apiResponse is the Prometheus API envelope used by borda's JSON APIs.
type apiResponse struct {
	Status    string `json:"status"`
	Data      any    `json:"data,omitempty"`
	ErrorType string `json:"errorType,omitempty"`
	Error     string `json:"error,omitempty"`
}

// Register adds GET /api/v1/bans (the active bans, oldest first) and
// DELETE /api/v1/bans/{ip} (lift a ban: 200, or 404 when ip is not banned)
// to mux. Both are admin endpoints: mount them behind authentication.
func (b *Banner) Register(mux interface{ Handle(string, http.Handler) }) {
	mux.Handle("GET /api/v1/bans", http.HandlerFunc(b.serveList))
	mux.Handle("DELETE /api/v1/bans/{ip}", http.HandlerFunc(b.serveUnban))
}

func (b *Banner) serveList(w http.ResponseWriter, _ *http.Request) {
	writeAPI(w, http.StatusOK, apiResponse{Status: "success", Data: b.List()})
}

func (b *Banner) serveUnban(w http.ResponseWriter, r *http.Request) {
	ip, err := netip.ParseAddr(r.PathValue("ip"))
	if err != nil || ip.Zone() != "" {
		writeAPI(w, http.StatusBadRequest, apiResponse{Status: "error", ErrorType: "bad_data",
			Error: "invalid parameter \"ip\": not an IP address"})
		return
	}
	ok, err := b.Unban(ip)
	switch {
	case err != nil:
		writeAPI(w, http.StatusInternalServerError, apiResponse{Status: "error", ErrorType: "internal",
			Error: "ban lifted in memory, but the bans file could not be written: " + err.Error()})
	case !ok:
		writeAPI(w, http.StatusNotFound, apiResponse{Status: "error", ErrorType: "not_found",
			Error: canonical(ip).String() + " is not banned"})
	default:
		writeAPI(w, http.StatusOK, apiResponse{Status: "success",
			Data: map[string]any{"ip": canonical(ip).String(), "unbanned": true}})
	}
}

func writeAPI(w http.ResponseWriter, code int, v apiResponse) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
