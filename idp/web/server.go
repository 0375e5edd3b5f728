package web

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Checker reports whether a dependency is ready; a nil error means ready.
type Checker interface {
	Ready(ctx context.Context) error
}

// CheckerFunc adapts a function to Checker.
type CheckerFunc func(ctx context.Context) error

// Ready implements Checker.
func (f CheckerFunc) Ready(ctx context.Context) error { return f(ctx) }

// Options configure a Server.
type Options struct {
	Logger *slog.Logger
	// MaxBodyBytes caps every request body (http.MaxBytesReader); default 1 MiB.
	MaxBodyBytes int64
	// Ready is the database check consulted by /readyz, reported there as
	// "database": "up" or "down"; its error is logged, never shown.
	Ready Checker
	// Registry receives the HTTP and runtime metrics; a new one when nil.
	Registry *prometheus.Registry
}

// Server routes requests. Routes are added with Handle before the server
// starts serving.
type Server struct {
	mux      *http.ServeMux
	log      *slog.Logger
	opt      Options
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	registry *prometheus.Registry
	base     *baseHost // set by RedirectToBaseURL
	// connectors reports the connectors' states in /readyz (see
	// SetConnectorStates).
	connectors func(ctx context.Context) map[string]string
	// routes are the patterns mounted by Handle and HandleFunc (Routes).
	routesMu sync.Mutex
	routes   []string
}

// NewServer returns a Server with /healthz, /readyz and /metrics mounted.
func NewServer(opt Options) *Server {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.MaxBodyBytes <= 0 {
		opt.MaxBodyBytes = 1 << 20
	}
	if opt.Registry == nil {
		opt.Registry = prometheus.NewRegistry()
	}
	s := &Server{mux: http.NewServeMux(), log: opt.Logger, opt: opt, registry: opt.Registry}
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "idpbridge_http_requests_total",
		Help: "HTTP requests served, by method, route pattern and status code.",
	}, []string{"method", "route", "code"})
	s.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "idpbridge_http_request_duration_seconds",
		Help:    "Time to serve HTTP requests, by method and route pattern.",
		Buckets: prometheus.DefBuckets,
	}, []string{"method", "route"})
	opt.Registry.MustRegister(s.requests, s.duration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	s.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	s.HandleFunc("GET /readyz", s.readyz)
	s.Handle("GET /metrics", promhttp.HandlerFor(opt.Registry, promhttp.HandlerOpts{}))
	return s
}

// Registry is where handlers register their own metrics.
func (s *Server) Registry() *prometheus.Registry { return s.registry }

// Logger is the server's logger.
func (s *Server) Logger() *slog.Logger { return s.log }

// Handle mounts h on pattern (net/http ServeMux syntax, e.g. "POST /sts").
func (s *Server) Handle(pattern string, h http.Handler) {
	s.mux.Handle(pattern, h)
	s.addRoute(pattern)
}

// HandleFunc mounts f on pattern.
func (s *Server) HandleFunc(pattern string, f http.HandlerFunc) {
	s.mux.HandleFunc(pattern, f)
	s.addRoute(pattern)
}

func (s *Server) addRoute(pattern string) {
	s.routesMu.Lock()
	s.routes = append(s.routes, pattern)
	s.routesMu.Unlock()
}

// SetConnectorStates makes /readyz list the states f reports ("up" or
// "down" by connector name), beside its checks and without failing on
// them: a directory that is down stops only its own people.
func (s *Server) SetConnectorStates(f func(ctx context.Context) map[string]string) {
	s.connectors = f
}

// readiness is the body of /readyz. It names each check and its state and
// nothing else: the cause of a failure (addresses, user and database names)
// goes to the log, never to the anonymous caller.
type readiness struct {
	Status     string            `json:"status"`
	Checks     map[string]string `json:"checks,omitempty"`
	Connectors map[string]string `json:"connectors,omitempty"`
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	var conns map[string]string
	if s.connectors != nil {
		conns = s.connectors(ctx)
	}
	if s.opt.Ready == nil {
		writeJSON(w, http.StatusOK, readiness{Status: "ready", Connectors: conns})
		return
	}
	if err := s.opt.Ready.Ready(ctx); err != nil {
		s.log.Warn("not ready", "check", "database", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, readiness{Status: "unavailable", Checks: map[string]string{"database": "down"}, Connectors: conns})
		return
	}
	writeJSON(w, http.StatusOK, readiness{Status: "ready", Checks: map[string]string{"database": "up"}, Connectors: conns})
}

// ServeHTTP runs the middleware chain around the router: recover, body
// limit, metrics and access log, and the redirect to the base URL's host
// (RedirectToBaseURL).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w}
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.log.Error("panic serving request", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(p), "stack", stack())
			if !rec.wroteHeader {
				http.Error(rec, "internal error", http.StatusInternalServerError)
			}
		}
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		s.requests.WithLabelValues(r.Method, route, strconv.Itoa(rec.status())).Inc()
		s.duration.WithLabelValues(r.Method, route).Observe(time.Since(start).Seconds())
		s.log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", rec.status(), "duration", time.Since(start))
	}()
	if r.Body != nil {
		r.Body = http.MaxBytesReader(rec, r.Body, s.opt.MaxBodyBytes)
	}
	if s.redirectToBase(rec, r) {
		return
	}
	s.mux.ServeHTTP(rec, r)
}

type statusRecorder struct {
	http.ResponseWriter
	code        int
	wroteHeader bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wroteHeader {
		r.code, r.wroteHeader = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if !r.wroteHeader {
		r.code, r.wroteHeader = http.StatusOK, true
	}
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) status() int {
	if !r.wroteHeader {
		return http.StatusOK
	}
	return r.code
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func writeJSON(w http.ResponseWriter, code int, v any) { WriteJSON(w, code, v) }
