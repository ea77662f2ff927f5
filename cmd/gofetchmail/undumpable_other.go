//go:build !linux

package main

// makeUndumpable does nothing where prctl(2) does not exist; limit core
// dumps there with `ulimit -c 0`.
func makeUndumpable() error { return nil }
