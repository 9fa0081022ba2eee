package alerts

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// errPermanent marks a webhook failure that a retry cannot fix (a 4xx
// answer other than 408 and 429, a redirect, a payload that fails to render).
var errPermanent = errors.New("not retried")

func newHTTPClient(workers int) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = workers
	return &http.Client{
		Transport: tr,
		// A webhook answering with a redirect is misconfigured; do not
		// re-send alerts to wherever it points.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// deliver POSTs one webhook, retrying transient failures with exponential
// backoff and jitter, at most webhook_attempts times.
func (d *Dispatcher) deliver(ctx context.Context, j webhookJob) {
	if ctx.Err() != nil {
		d.m.droppedBy[outWebhook].Inc()
		return
	}
	body, err := j.action.Payload(&j.alert)
	if err != nil {
		d.webhookDone(j, resultError, 0, fmt.Errorf("payload: %w", err))
		return
	}
	wait := d.cfg.WebhookBackoff
	for attempt := 1; ; attempt++ {
		retryAfter, err := d.post(ctx, j.action, body)
		if err == nil {
			d.m.attempts.WithLabelValues(resultOK).Inc()
			d.webhookDone(j, resultOK, attempt, nil)
			return
		}
		d.m.attempts.WithLabelValues(resultError).Inc()
		switch {
		case errors.Is(err, errPermanent):
			d.webhookDone(j, resultError, attempt, err)
			return
		case attempt >= d.cfg.WebhookAttempts || ctx.Err() != nil:
			d.webhookDone(j, resultGaveUp, attempt, err)
			return
		}
		pause := jitter(wait)
		if retryAfter > 0 {
			pause = min(retryAfter, maxWebhookBackoff)
		}
		sleep(ctx, pause)
		wait = min(2*wait, maxWebhookBackoff)
	}
}

func (d *Dispatcher) webhookDone(j webhookJob, result string, attempts int, err error) {
	d.m.actions.WithLabelValues(ActionWebhook, result).Inc()
	if err != nil {
		d.limited.Warn("alert webhook failed", "rule", j.alert.Rule, "url", j.action.Spec.URL,
			"result", result, "attempts", attempts, "err", err)
	}
}

// post makes one attempt. It returns the server's Retry-After (seconds
// form) when it asks for one.
func (d *Dispatcher) post(ctx context.Context, act *Action, body []byte) (time.Duration, error) {
	timeout := act.Spec.Timeout
	if timeout <= 0 {
		timeout = defaultWebhookWait
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, act.Spec.URL, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("%w: %w", errPermanent, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "borda-alerts")
	for k, v := range act.Spec.Headers {
		req.Header.Set(k, v)
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("post: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	code := resp.StatusCode
	switch {
	case code >= 200 && code < 300:
		return 0, nil
	case code >= 500, code == http.StatusTooManyRequests, code == http.StatusRequestTimeout:
		secs, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		return time.Duration(max(secs, 0)) * time.Second, fmt.Errorf("post: %s", resp.Status)
	}
	return 0, fmt.Errorf("%w: post: %s", errPermanent, resp.Status)
}
