package jsonhttp

import (
	"net/http"

	"github.com/tallyhq/tally/internal/item"
)

// maxQueryValue bounds one query parameter: the longest thing a query carries is a page URL.
const maxQueryValue = 2048

// TextQuery answers 400 before next runs when a query parameter's name or value is not
// item.ValidText or is longer than a page URL may be: query parameters go through the same gate
// as beacons, so no read model is asked about text it could not hold (PostgreSQL refuses
// invalid UTF-8 with an error, which would be a 503).
func TextQuery(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.RawQuery != "" {
			for k, vs := range r.URL.Query() {
				ok := item.ValidText(k) && len(k) <= maxQueryValue
				for _, v := range vs {
					ok = ok && item.ValidText(v) && len(v) <= maxQueryValue
				}
				if !ok {
					Fail(w, Errorf(Invalid, "query parameter %.40q must be UTF-8 text without control or invisible characters, at most %d bytes", k, maxQueryValue))
					return
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}
