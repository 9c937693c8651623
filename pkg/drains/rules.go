package drains

import (
	"context"
	"errors"
	"time"
)

// Rule is one custom grouping rule of an org and env (pkg/grouping's rule syntax), kept
// with the drains. The rules of an org and env apply to every drain of that org and env,
// after the default rules, in order; they never apply to another org or env.
type Rule struct {
	// ID names the rule within its org and env ("r1", "r2", ...; never reused).
	ID        string    `json:"id"`
	Org       string    `json:"org"`
	Env       string    `json:"env"`
	Text      string    `json:"rule"`
	CreatedAt time.Time `json:"createdAt"`
}

// ErrRuleNotFound is returned when no rule has that id in that org and env.
var ErrRuleNotFound = errors.New("rule not found")

// MaxRules bounds the rules of one org and env.
const MaxRules = 200

// ErrTooManyRules is returned when the org and env already have MaxRules rules.
var ErrTooManyRules = errors.New("too many rules")

// RuleStore keeps the custom grouping rules per org and env. Implementations: the
// DynamoDB adapter and the embedded store (with the drains), drainstest.MemStore.
type RuleStore interface {
	// Rules returns the org and env's rules in the order they were added.
	Rules(ctx context.Context, org, env string) ([]Rule, error)
	// AddRule appends a rule (the caller has checked its syntax) and returns it with its
	// id; ErrTooManyRules past MaxRules.
	AddRule(ctx context.Context, org, env, text string, at time.Time) (Rule, error)
	// RemoveRule removes one rule; ErrRuleNotFound when the org and env have none by that id.
	RemoveRule(ctx context.Context, org, env, id string) error
}
