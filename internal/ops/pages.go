package ops

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

//go:embed web/templates/*.html
var templateFS embed.FS

//go:embed web/static
var staticFS embed.FS

// pageNames are the templates handlers render; mustParsePages checks each exists, so a typo
// fails at start-up instead of on the owner's first click.
var pageNames = []string{"login.html", "views.html", "item.html"}

type pages struct {
	t   *template.Template
	log *slog.Logger
}

func mustParsePages(log *slog.Logger) *pages {
	t := template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "web/templates/*.html"))
	for _, name := range pageNames {
		if t.Lookup(name) == nil {
			panic("ops: template " + name + " is missing")
		}
	}
	return &pages{t: t, log: log}
}

// render executes a page into a buffer first, so a template error becomes a clean 500
// instead of half a page; the error itself goes to the log, not to the browser.
func (p *pages) render(w http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := p.t.ExecuteTemplate(&buf, name, data); err != nil {
		p.log.Error("render "+name, "err", err)
		http.Error(w, "the page could not be shown; see the server log", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	buf.WriteTo(w)
}

// staticFiles serves the dashboard's CSS and JS; they may be cached for a day.
func staticFiles() http.Handler {
	sub, _ := fs.Sub(staticFS, "web/static")
	files := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		files.ServeHTTP(w, r)
	})
}

var funcs = template.FuncMap{
	"num":    formatNumber,
	"signed": func(p *float64) string { return fmt.Sprintf("%+.0f%%", *p) },
	"trend": func(p *float64) string {
		switch {
		case p == nil || *p == 0:
			return "flat"
		case *p > 0:
			return "up"
		default:
			return "down"
		}
	},
	"ago": ago,
	"query": func(base string, kv ...any) string {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			if s := fmt.Sprint(kv[i+1]); s != "" && s != "0" {
				v.Set(fmt.Sprint(kv[i]), s)
			}
		}
		if len(v) == 0 {
			return base
		}
		return base + "?" + v.Encode()
	},
	"add":      func(a, b int) int { return a + b },
	"dateTick": dateTick,
	"add2":     func(a, b float64) float64 { return a + b },
	// when shows a time as "Nov 24 12:05" (UTC).
	"when":    func(t time.Time) string { return t.UTC().Format("Jan 2 15:04") },
	"rfc3339": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
}

// formatNumber writes 1234567 as "1,234,567".
func formatNumber(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// ago says how long ago t was, for "last flushed 4 minutes ago".
func ago(now time.Time, t *time.Time) string {
	if t == nil {
		return "never"
	}
	d := now.Sub(*t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < 2*time.Minute:
		return "1 minute ago"
	case d < time.Hour:
		return fmt.Sprintf("%d minutes ago", int(d/time.Minute))
	case d < 2*time.Hour:
		return "1 hour ago"
	case d < 48*time.Hour:
		return fmt.Sprintf("%d hours ago", int(d/time.Hour))
	default:
		return fmt.Sprintf("%d days ago", int(d/(24*time.Hour)))
	}
}
