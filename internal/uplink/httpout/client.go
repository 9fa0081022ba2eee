package httpout

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// newClient builds the output's own HTTP client: its own connection pool
// (closed when Run ends) and TLS settings.
func newClient(c Common) (*http.Client, error) {
	tc, err := c.TLS.Load()
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: c.Timeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       tc,
		TLSHandshakeTimeout:   c.Timeout,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: c.Timeout,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{Transport: tr}, nil
}

// verdict is what a request's outcome means for its data.
type verdict int

const (
	delivered verdict = iota // 2xx: acknowledge
	retry                    // outage, overload, configuration or auth problem: try again later
	rejected                 // the data itself is refused: bisect, dead-letter what stays refused
)

// classify maps a status code to a verdict. 400, 413 and 422 refuse the
// data (bad line, out-of-order sample, too large, out of retention);
// every other 4xx (401/403 credentials, 404 database or URL, 405, 415)
// is a configuration problem the operator can fix without losing data,
// and 408, 429 and 5xx are temporary: all are retried.
func classify(code int) verdict {
	switch {
	case code >= 200 && code < 300:
		return delivered
	case code == http.StatusBadRequest, code == http.StatusRequestEntityTooLarge,
		code == http.StatusUnprocessableEntity:
		return rejected
	}
	return retry
}

// answer is the part of a response the sender needs.
type answer struct {
	code    int // 0: no response (err is set)
	err     error
	invalid bool // the payload could not be made into a request: it never will

	snippet    string        // start of the body, for logs and dead letters
	retryAfter time.Duration // from Retry-After, 0 if absent
}

const snippetLen = 256

// post sends r and reads (a bounded part of) the answer.
func (o *Output) post(ctx context.Context, r Request) answer {
	ctx, cancel := context.WithTimeout(ctx, o.cfg.Timeout)
	defer cancel()
	// A copy: the transport may still read the body after Do returned (an
	// early answer such as 413), while the format reuses its buffers.
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL, bytes.NewReader(bytes.Clone(r.Body)))
	if err != nil {
		return answer{err: fmt.Errorf("build request: %w", err)}
	}
	for k, v := range o.cfg.Headers {
		req.Header.Set(k, v)
	}
	for k, vs := range r.Header {
		req.Header[k] = vs
	}
	req.Header.Set("User-Agent", "borda-uplink")
	if o.cfg.Username != "" || o.cfg.Password != "" {
		req.SetBasicAuth(o.cfg.Username, o.cfg.Password)
	}
	resp, err := o.client.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	head, _ := io.ReadAll(io.LimitReader(resp.Body, snippetLen))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16)) // let the connection be reused
	return answer{code: resp.StatusCode, snippet: strings.TrimSpace(string(head)),
		retryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())}
}

// parseRetryAfter reads delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
		return max(0, time.Duration(s)*time.Second)
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, t.Sub(now))
	}
	return 0
}
