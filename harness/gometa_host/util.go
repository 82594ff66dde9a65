package main

import (
	"encoding/hex"
	"sort"
)

func hexString(b []byte) string { return hex.EncodeToString(b) }

func sortUint64(s []uint64) { sort.Slice(s, func(i, j int) bool { return s[i] < s[j] }) }
