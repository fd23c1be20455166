//go:build !unix

package spool

import "os"

// lockDir does not lock on systems without flock; the server runs on Linux.
func lockDir(string) (*os.File, error) { return nil, nil }

func unlockDir(*os.File) error { return nil }
