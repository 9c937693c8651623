package secrets

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// fakeSM is an in-memory Secrets Manager holding one secret; it counts the reads.
type fakeSM struct {
	mu     sync.Mutex
	value  *secretsmanager.GetSecretValueOutput
	err    error
	reads  int
	gate   chan struct{} // when set, each read waits for it
	readID string
}

func (f *fakeSM) GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	if f.gate != nil {
		select {
		case <-f.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	f.readID = aws.ToString(in.SecretId)
	if f.err != nil {
		return nil, f.err
	}
	return f.value, nil
}

func (f *fakeSM) set(s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.value, f.err = &secretsmanager.GetSecretValueOutput{SecretString: aws.String(s)}, nil
}

func (f *fakeSM) fail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

func (f *fakeSM) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reads
}

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newFixture(ttl time.Duration) (*Pepper, *fakeSM, *clock) {
	sm := &fakeSM{}
	sm.set("pepper-one")
	c := &clock{t: time.Unix(1_763_700_000, 0)}
	return newPepper(sm, "aient/pepper", ttl, c.now), sm, c
}

func mustGet(t *testing.T, get func(context.Context) ([]byte, error), want string) {
	t.Helper()
	v, err := get(t.Context())
	if err != nil {
		t.Fatalf("err = %v, want the pepper", err)
	}
	if string(v) != want {
		t.Fatalf("pepper = %q, want %q", v, want)
	}
}

func TestGetReadsOnceAndCaches(t *testing.T) {
	p, sm, c := newFixture(0)
	mustGet(t, p.Get, "pepper-one")
	c.add(48 * time.Hour)
	sm.set("pepper-two")
	mustGet(t, p.Get, "pepper-one")
	if n := sm.count(); n != 1 {
		t.Errorf("reads = %d, want 1 for the life of the container", n)
	}
	if sm.readID != "aient/pepper" {
		t.Errorf("read secret %q, want aient/pepper", sm.readID)
	}
}

func TestGetRereadsAfterTheTTL(t *testing.T) {
	p, sm, c := newFixture(10 * time.Minute)
	mustGet(t, p.Get, "pepper-one")
	sm.set("pepper-two")
	c.add(10*time.Minute - time.Second)
	mustGet(t, p.Get, "pepper-one")
	c.add(time.Second)
	mustGet(t, p.Get, "pepper-two")
	if n := sm.count(); n != 2 {
		t.Errorf("reads = %d, want 2", n)
	}
}

func TestConcurrentColdGetsShareOneRead(t *testing.T) {
	p, sm, _ := newFixture(0)
	sm.gate = make(chan struct{})
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			v, err := p.Get(context.WithoutCancel(t.Context()))
			if err != nil || string(v) != "pepper-one" {
				t.Errorf("Get = %q, %v", v, err)
			}
		})
	}
	time.Sleep(10 * time.Millisecond) // let them pile up on the one read
	close(sm.gate)
	wg.Wait()
	if n := sm.count(); n != 1 {
		t.Errorf("reads = %d for 50 concurrent cold Gets, want 1", n)
	}
}

func TestRefreshPicksUpARotationAtMostOncePerMinute(t *testing.T) {
	p, sm, c := newFixture(0)
	mustGet(t, p.Get, "pepper-one")
	sm.set("pepper-two")

	// A bad-key flood right after the start: every mismatch asks for a refresh.
	for range 1000 {
		mustGet(t, p.Refresh, "pepper-one")
	}
	if n := sm.count(); n != 1 {
		t.Fatalf("reads after 1000 refreshes within a minute of the first read = %d, want 1", n)
	}
	c.add(MinRefreshInterval)
	mustGet(t, p.Refresh, "pepper-two")
	mustGet(t, p.Get, "pepper-two")
	for range 1000 {
		mustGet(t, p.Refresh, "pepper-two")
	}
	if n := sm.count(); n != 2 {
		t.Errorf("reads = %d, want 2", n)
	}
}

func TestConcurrentRefreshesShareOneRead(t *testing.T) {
	p, sm, c := newFixture(0)
	mustGet(t, p.Get, "pepper-one")
	sm.set("pepper-two")
	c.add(time.Hour)
	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() {
			if v, err := p.Refresh(context.WithoutCancel(t.Context())); err != nil || string(v) != "pepper-two" {
				t.Errorf("Refresh = %q, %v", v, err)
			}
		})
	}
	wg.Wait()
	if n := sm.count(); n != 2 {
		t.Errorf("reads = %d, want 2 (the first Get and one refresh)", n)
	}
}

func TestAFailedRefreshKeepsTheCachedPepperAndIsRateLimited(t *testing.T) {
	p, sm, c := newFixture(0)
	mustGet(t, p.Get, "pepper-one")
	c.add(time.Hour)
	sm.fail(errors.New("throttled"))
	if _, err := p.Refresh(t.Context()); err == nil || !strings.Contains(err.Error(), "throttled") {
		t.Fatalf("Refresh = %v, want the read's error", err)
	}
	mustGet(t, p.Get, "pepper-one")
	// The failed attempt counts against the interval: no hammering of a struggling service.
	mustGet(t, p.Refresh, "pepper-one")
	if n := sm.count(); n != 2 {
		t.Errorf("reads = %d, want 2", n)
	}
}

func TestUnreadableSecretsAreClearErrorsWithoutTheValue(t *testing.T) {
	const secret = "s3cr3t-pepper-value"
	cases := []struct {
		name string
		out  *secretsmanager.GetSecretValueOutput
		err  error
		want error
	}{
		{name: "an empty string and no binary", out: &secretsmanager.GetSecretValueOutput{SecretString: aws.String("")}, want: errEmpty},
		{name: "neither string nor binary", out: &secretsmanager.GetSecretValueOutput{}, want: errEmpty},
		{name: "the service refuses", err: fmt.Errorf("AccessDeniedException: not allowed")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sm := &fakeSM{value: c.out, err: c.err}
			p := newPepper(sm, "aient/pepper", 0, time.Now)
			v, err := p.Get(t.Context())
			if err == nil || v != nil {
				t.Fatalf("Get = (%q, %v), want an error", v, err)
			}
			if !strings.Contains(err.Error(), `"aient/pepper"`) {
				t.Errorf("error %q does not name the secret id", err)
			}
			if c.want != nil && !errors.Is(err, c.want) {
				t.Errorf("error = %v, want %v", err, c.want)
			}
			if c.err != nil && !errors.Is(err, c.err) {
				t.Errorf("error = %v, want it to wrap %v", err, c.err)
			}
		})
	}

	t.Run("a failure after a successful read does not print the cached value", func(t *testing.T) {
		sm := &fakeSM{}
		sm.set(secret)
		c := &clock{t: time.Unix(0, 0)}
		p := newPepper(sm, "aient/pepper", time.Minute, c.now)
		mustGet(t, p.Get, secret)
		sm.fail(errors.New("ResourceNotFoundException: secret deleted"))
		for _, f := range []func(context.Context) ([]byte, error){p.Get, p.Refresh} {
			c.add(time.Hour) // past the TTL and the refresh interval
			if _, err := f(t.Context()); err == nil || strings.Contains(err.Error(), secret) {
				t.Errorf("err = %v, want an error without the pepper", err)
			}
		}
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			if s := fmt.Sprintf(verb, p); strings.Contains(s, secret) {
				t.Errorf("fmt %s of the Pepper = %q: prints the value", verb, s)
			}
		}
	})
}

func TestBinarySecretsAreUsedAsIs(t *testing.T) {
	raw := []byte{0, 1, 2, 0xff, 0xfe}
	sm := &fakeSM{value: &secretsmanager.GetSecretValueOutput{SecretBinary: raw}}
	p := newPepper(sm, "aient/pepper", 0, time.Now)
	v, err := p.Get(t.Context())
	if err != nil || string(v) != string(raw) {
		t.Fatalf("Get = (%x, %v), want %x", v, err, raw)
	}
	v[0] = 9 // callers get their own copy
	if v2, _ := p.Get(t.Context()); v2[0] != 0 {
		t.Error("changing a returned pepper changed the cached one")
	}
}

func TestAWaitingCallerStopsWithItsContext(t *testing.T) {
	p, sm, _ := newFixture(0)
	sm.gate = make(chan struct{})
	defer close(sm.gate)
	started := make(chan struct{})
	go func() {
		close(started)
		_, _ = p.Get(context.WithoutCancel(t.Context())) // holds the read
	}()
	<-started
	time.Sleep(10 * time.Millisecond)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if _, err := p.Get(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Get while another read hangs = %v, want context.DeadlineExceeded", err)
	}
}
