package web

import (
	_ "embed"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"idpbridge/idp"
)

// APIFunc is an admin API endpoint: it reads the request and returns the
// value to answer with 200 as JSON, or an error that Error renders.
type APIFunc func(r *http.Request) (any, error)

// errorStatus maps idp.Error codes to HTTP statuses.
var errorStatus = map[string]int{
	idp.EInvalid:          http.StatusBadRequest,
	idp.ENotFound:         http.StatusNotFound,
	idp.EConflict:         http.StatusConflict,
	idp.EUnauthorized:     http.StatusUnauthorized,
	idp.EForbidden:        http.StatusForbidden,
	idp.ETooMany:          http.StatusTooManyRequests,
	idp.EUnavailable:      http.StatusServiceUnavailable,
	idp.ETooLarge:         http.StatusRequestEntityTooLarge,
	idp.EUnsupportedMedia: http.StatusUnsupportedMediaType,
	idp.EMethodNotAllowed: http.StatusMethodNotAllowed,
	idp.EInternal:         http.StatusInternalServerError,
}

// ErrorStatus is the HTTP status for err's idp.Error code: 500 for an
// error that is not an *idp.Error.
func ErrorStatus(err error) int {
	if s, ok := errorStatus[idp.ErrorCode(err)]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// errorBody is the one JSON error body of the admin API:
// {"error": {"code": "...", "message": "..."}}.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// Fields, for an invalid request, names each field at fault.
	Fields []FieldError `json:"fields,omitempty"`
}

// FieldError is one problem of one field of a request: Field is its key
// path in the submitted document ("source_identity.transforms", "roles[0].group"),
// "" for the document as a whole; Line is its line in the document when it
// is text (YAML), else 0.
type FieldError struct {
	Field   string `json:"field"`
	Line    int    `json:"line,omitempty"`
	Message string `json:"message"`
}

// InvalidFields is an idp.EInvalid error that names the fields at fault;
// Error renders them in the body's "fields".
type InvalidFields struct {
	Message string
	Fields  []FieldError
}

func (e *InvalidFields) Error() string { return e.Message }

// Unwrap returns the *idp.Error (code invalid) that sets the status.
func (e *InvalidFields) Unwrap() error { return &idp.Error{Code: idp.EInvalid, Message: e.Message} }

// Error writes err as the JSON error body with the status of its code. A
// body over the server's limit is too_large; any error that is not an
// *idp.Error is logged in full and shown as "internal error".
func Error(w http.ResponseWriter, r *http.Request, err error) {
	writeError(w, r, err, slog.Default())
}

func writeError(w http.ResponseWriter, r *http.Request, err error, log *slog.Logger) {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) && idp.ErrorCode(err) == idp.EInternal {
		err = idp.Errorf(idp.ETooLarge, "the body is larger than %d bytes", tooBig.Limit)
	}
	var allow *allowError
	if errors.As(err, &allow) {
		w.Header().Set("Allow", allow.allow)
	}
	code := idp.ErrorCode(err)
	if code == idp.EInternal {
		log.ErrorContext(r.Context(), "admin api", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if _, ok := errorStatus[code]; !ok {
		code = idp.EInternal
	}
	detail := errorDetail{Code: code, Message: idp.ErrorMessage(err)}
	var fields *InvalidFields
	if errors.As(err, &fields) && code == idp.EInvalid {
		detail.Fields = fields.Fields
	}
	WriteJSON(w, ErrorStatus(err), errorBody{Error: detail})
}

// WriteJSON answers status with v as JSON, never cached.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// API renders f: its value as JSON with 200, its error with Error (which
// logs internal errors to log; slog.Default when nil).
func API(f APIFunc, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.Default()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := f(r)
		if err != nil {
			writeError(w, r, err, log)
			return
		}
		WriteJSON(w, http.StatusOK, v)
	})
}

// AdminAPI is f behind RequireAdmin, for routes under /admin/api/; internal
// errors go to the IdP's logger.
func (p *IdP) AdminAPI(f APIFunc) http.Handler { return p.RequireAdmin(API(f, p.log)) }

// Routes lists the patterns mounted on s, in mounting order.
func (s *Server) Routes() []string {
	s.routesMu.Lock()
	defer s.routesMu.Unlock()
	return append([]string(nil), s.routes...)
}

//go:embed openapi.json
var openAPI []byte

// serveOpenAPI answers GET /admin/api/openapi.json: the admin API's
// OpenAPI 3.1 document.
func serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Write(openAPI)
}

// AdminAPIFallback is the pattern of AdminAPINotFound.
const AdminAPIFallback = "/admin/api/"

// AdminAPINotFound answers, behind the admin guard, the requests under
// /admin/api/ that no route of s takes: 405 with Allow when the path has
// routes for other methods, 404 otherwise, both in Error's JSON body.
// Mount it on AdminAPIFallback.
func (p *IdP) AdminAPINotFound(s *Server) http.Handler { return p.AdminAPI(apiNotFound(s)) }

func apiNotFound(s *Server) APIFunc {
	return func(r *http.Request) (any, error) {
		var allow []string
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, pat := s.mux.Handler(probe); pat != "" && pat != AdminAPIFallback {
				allow = append(allow, m)
			}
		}
		if len(allow) == 0 {
			return nil, idp.Errorf(idp.ENotFound, "no admin API route %s; the routes are in /admin/api/openapi.json", r.URL.Path)
		}
		return nil, &allowError{allow: strings.Join(allow, ", "), err: idp.Errorf(idp.EMethodNotAllowed, "%s %s is not allowed; use %s", r.Method, r.URL.Path, strings.Join(allow, " or "))}
	}
}

// allowError carries the Allow header of a 405.
type allowError struct {
	allow string
	err   *idp.Error
}

func (e *allowError) Error() string { return e.err.Error() }
func (e *allowError) Unwrap() error { return e.err }

// AdminAPIRoutes lists the mounted patterns under /admin/api/.
func (s *Server) AdminAPIRoutes() []string {
	var out []string
	for _, p := range s.Routes() {
		_, path, _ := strings.Cut(p, " ")
		if strings.HasPrefix(path, "/admin/api/") {
			out = append(out, p)
		}
	}
	return out
}
