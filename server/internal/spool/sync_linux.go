package spool

import (
	"os"
	"syscall"
)

// datasync makes f's data durable without its metadata. Over bytes that
// were already written and fsynced (a prepared segment's zeros) the size
// does not change, so ext4 and XFS need no journal commit: the fsync no
// longer waits for whatever else was written to the filesystem meanwhile.
func datasync(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if err != syscall.EINTR {
			return err
		}
	}
}
