package firewall

import (
	"strings"
	"testing"
)

// FuzzRules: whatever the names, addresses and allow entries, Rules never
// panics, and an accepted configuration renders one nftables line per
// rule and one ufw command per rule: a listener name cannot inject rules.
func FuzzRules(f *testing.F) {
	f.Add("broker mqtt", "192.168.10.5", 1883, "3000/tcp", 22)
	f.Add("http \"x\"\naccept", "::", 8888, "53/udp", 0)
	f.Add("lo", "127.0.0.1", 1, "65535", 65535)
	f.Fuzz(func(t *testing.T, name, addr string, port int, allow string, ssh int) {
		rules, _, err := Rules(Config{SSHPort: ssh, Allow: []string{allow}},
			[]Listener{{Name: name, Address: addr, Port: port, Proto: "tcp"}})
		if err != nil {
			return
		}
		nft := string(RenderNFT(rules))
		if got := strings.Count(nft, " accept comment "); got != len(rules) {
			t.Fatalf("%d rule lines for %d rules:\n%s", got, len(rules), nft)
		}
		ufw := string(RenderUFW(rules))
		if got := strings.Count(ufw, "\nufw allow "); got != len(rules) {
			t.Fatalf("%d ufw allow lines for %d rules:\n%s", got, len(rules), ufw)
		}
		for _, line := range strings.Split(ufw, "\n") {
			for i, part := range strings.Split(line, "'") {
				if i%2 == 0 && !strings.HasPrefix(line, "#") && strings.ContainsAny(part, ";|&$`<>()\\\"*?[~{}!") {
					t.Fatalf("unquoted shell syntax in %q", line)
				}
			}
		}
	})
}
