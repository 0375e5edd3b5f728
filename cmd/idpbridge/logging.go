package main

import (
	"log"
	"log/slog"
)

// slogErrorLog routes net/http's internal errors (TLS handshakes, bad
// requests) to the structured logger at warn level.
func slogErrorLog(l *slog.Logger) *log.Logger {
	return slog.NewLogLogger(l.Handler(), slog.LevelWarn)
}
