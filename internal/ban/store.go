package ban

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"time"

	bolt "go.etcd.io/bbolt"
)

// File layout: one bucket "bans", keyed by the IP in its canonical text
// form, each value the JSON of a Ban.
const bucketName = "bans"

// record is the stored form of a Ban.
type record struct {
	Since    time.Time `json:"since"`
	Until    time.Time `json:"until"`
	Source   string    `json:"source"`
	Reason   string    `json:"reason"`
	Failures int       `json:"failures"`
}

func encodeBan(b Ban) (key, val []byte, err error) {
	val, err = json.Marshal(record{Since: b.Since, Until: b.Until, Source: b.Source, Reason: b.Reason, Failures: b.Failures})
	if err != nil {
		return nil, nil, fmt.Errorf("encode ban %s: %w", b.IP, err)
	}
	return []byte(b.IP.String()), val, nil
}

// decodeBan parses one stored ban. Values written by another version may
// carry more fields; they are ignored.
func decodeBan(key, val []byte) (Ban, error) {
	ip, err := netip.ParseAddr(string(key))
	if err != nil || ip.Zone() != "" || ip.Unmap() != ip {
		return Ban{}, fmt.Errorf("decode ban: key %q is not a canonical IP address", key)
	}
	var r record
	if err := json.Unmarshal(val, &r); err != nil {
		return Ban{}, fmt.Errorf("decode ban %s: %w", ip, err)
	}
	if r.Until.IsZero() || r.Until.Before(r.Since) {
		return Ban{}, fmt.Errorf("decode ban %s: until %s is not after since %s", ip, r.Until, r.Since)
	}
	if r.Failures < 0 {
		return Ban{}, fmt.Errorf("decode ban %s: negative failures %d", ip, r.Failures)
	}
	return Ban{IP: ip, Since: r.Since, Until: r.Until, Source: label(r.Source), Reason: label(r.Reason),
		Failures: r.Failures}, nil
}

func openStore(path string) (*bolt.DB, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, NoFreelistSync: true})
	if err != nil {
		return nil, fmt.Errorf("open bans file %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists([]byte(bucketName))
		return err
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open bans file %s: %w", path, err)
	}
	return db, nil
}

// loadStore reads every stored ban and deletes the ones that are expired
// at now or cannot be decoded; it returns the active ones, the expired ones
// and the number of undecodable entries removed.
func loadStore(db *bolt.DB, now time.Time) (active, expired []Ban, bad int, err error) {
	err = db.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket([]byte(bucketName))
		var drop [][]byte
		err := bk.ForEach(func(k, v []byte) error {
			b, err := decodeBan(k, v)
			switch {
			case err != nil:
				bad++
				drop = append(drop, append([]byte(nil), k...))
			case !now.Before(b.Until):
				expired = append(expired, b)
				drop = append(drop, append([]byte(nil), k...))
			default:
				active = append(active, b)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range drop {
			if err := bk.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, 0, fmt.Errorf("load bans file: %w", err)
	}
	return active, expired, bad, nil
}

// storeOp is one change to the bans file: put Ban, or delete IP.
type storeOp struct {
	put Ban
	del netip.Addr
}

// applyStore writes ops in one transaction; db may be nil (not open).
func applyStore(db *bolt.DB, ops []storeOp) error {
	if db == nil || len(ops) == 0 {
		return nil
	}
	err := db.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket([]byte(bucketName))
		var errs []error
		for _, op := range ops {
			if op.del.IsValid() {
				errs = append(errs, bk.Delete([]byte(op.del.String())))
				continue
			}
			k, v, err := encodeBan(op.put)
			if err == nil {
				err = bk.Put(k, v)
			}
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	})
	if err != nil {
		return fmt.Errorf("write bans file: %w", err)
	}
	return nil
}
