package ban

import (
	"net/netip"
	"testing"
	"time"
)

// FuzzParseAllowList: parsing never panics; every accepted entry is a
// masked prefix that contains its own address, and IPv4-mapped input is
// stored as IPv4.
func FuzzParseAllowList(f *testing.F) {
	for _, s := range []string{"10.0.0.0/8", "192.0.2.7", "::1/128", "::ffff:10.0.0.0/104", "fe80::1%eth0",
		"1.2.3.4/33", "", " ", "::ffff:1.2.3.4/64", "0.0.0.0/0", "::/0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseAllowList([]string{s})
		if err != nil {
			if l.Len() != 0 {
				t.Fatalf("error %v with %d prefixes", err, l.Len())
			}
			return
		}
		if l.Len() != 1 {
			t.Fatalf("%q gave %d prefixes", s, l.Len())
		}
		p := l.prefixes[0]
		if p != p.Masked() || p.Addr().Is4In6() || !l.Contains(p.Addr()) {
			t.Fatalf("%q gave %s", s, p)
		}
	})
}

// FuzzDecodeBan: decoding arbitrary file content never panics, and every
// decoded ban encodes back to an equal ban.
func FuzzDecodeBan(f *testing.F) {
	k, v, _ := encodeBan(Ban{IP: netip.MustParseAddr("192.0.2.1"), Since: t0, Until: t0.Add(time.Hour),
		Source: "mqtt", Reason: "bad_password", Failures: 5})
	f.Add(k, v)
	f.Add([]byte("2001:db8::1"), []byte(`{"since":"2023-11-14T22:13:20Z","until":"2023-11-14T23:13:20Z","extra":1}`))
	f.Add([]byte("::ffff:1.2.3.4"), v)
	f.Add([]byte("192.0.2.1"), []byte(`{"until":"0001-01-01T00:00:00Z"}`))
	f.Add([]byte("192.0.2.1"), []byte(`{"source":"X\" y","until":"2023-11-14T23:13:20Z","failures":-1}`))
	f.Add([]byte(""), []byte("{"))
	f.Fuzz(func(t *testing.T, key, val []byte) {
		b, err := decodeBan(key, val)
		if err != nil {
			return
		}
		if b.Source != label(b.Source) || b.Reason != label(b.Reason) || b.Until.Before(b.Since) {
			t.Fatalf("decoded an unsafe ban %+v", b)
		}
		k2, v2, err := encodeBan(b)
		if err != nil {
			t.Fatalf("encode %+v: %v", b, err)
		}
		b2, err := decodeBan(k2, v2)
		if err != nil || b2.IP != b.IP || !b2.Since.Equal(b.Since) || !b2.Until.Equal(b.Until) ||
			b2.Source != b.Source || b2.Reason != b.Reason || b2.Failures != b.Failures {
			t.Fatalf("round trip %+v -> %+v (%v)", b, b2, err)
		}
	})
}
