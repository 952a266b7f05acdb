package backup

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Fetch asks the running tally server at baseURL for a consistent backup (the admin API's
// backup endpoint, with HTTP Basic credentials) and unpacks it into dest.
func Fetch(ctx context.Context, baseURL, user, password, dest string) (Manifest, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", strings.TrimRight(baseURL, "/")+"/ops/api/backup", nil)
	if err != nil {
		return Manifest{}, err
	}
	req.SetBasicAuth(user, password)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Manifest{}, fmt.Errorf("ask the server for a backup: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return Manifest{}, fmt.Errorf("the server refused the backup: %s %s", resp.Status, strings.TrimSpace(string(b)))
	}
	if err := Untar(resp.Body, dest); err != nil {
		return Manifest{}, err
	}
	return ReadManifest(dest)
}
