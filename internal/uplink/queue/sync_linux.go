package queue

import (
	"os"
	"syscall"
)

// datasync flushes f's data and the metadata needed to read it
// (fdatasync: one flush per group commit when Config.Fsync is on).
func datasync(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if err != syscall.EINTR {
			return err
		}
	}
}
