package main

import (
	"crypto/rand"
	"io"
	"math/big"
)

// passwordAlphabet avoids look-alike characters (0/O, 1/l/I).
const passwordAlphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// randomPassword returns 20 characters from passwordAlphabet (about 117
// bits), drawn from r without modulo bias.
func randomPassword(r io.Reader) string {
	max := big.NewInt(int64(len(passwordAlphabet)))
	b := make([]byte, 20)
	for i := range b {
		n, err := rand.Int(r, max)
		if err != nil {
			panic("idpbridge: randomness unavailable: " + err.Error())
		}
		b[i] = passwordAlphabet[n.Int64()]
	}
	return string(b)
}
