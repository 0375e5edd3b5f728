package audit

import (
	"fmt"
	"io"
)

// NewUUID returns a random (version 4) UUID read from rand, the injected
// source of randomness, for a record's EventID or RequestID. An error from
// rand is returned: there is no fallback to another source.
func NewUUID(rand io.Reader) (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(rand, b[:]); err != nil {
		return "", fmt.Errorf("uuid: read random: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 9562 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}
