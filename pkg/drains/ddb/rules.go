package ddb

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/aient/firehose-drain/pkg/drains"
)

// The custom grouping rules of an org and env are one item of the drains table:
//
//	id (S) "rules\x1f<org>\x1f<env>"   org (S)   env (S)
//	rules (L of M {id (S), rule (S), at (N, unix ms)})
//	last (N: the last rule number given out)   version (N: optimistic concurrency)
//
// An add or remove reads the item and writes it back conditional on its version, retried
// on a concurrent write. drains.ValidID never accepts such an id, and List skips them.

const (
	rulesPrefix  = "rules\x1f"
	attrRules    = "rules"
	attrLast     = "last"
	attrVersion  = "version"
	ruleAttrID   = "id"
	ruleAttrText = "rule"
	ruleAttrAt   = "at"
	// maxRuleWriteAttempts bounds the retries of a write that lost a race.
	maxRuleWriteAttempts = 8
)

var _ drains.RuleStore = (*Store)(nil)

func rulesID(org, env string) string { return rulesPrefix + org + "\x1f" + env }

type rulesItem struct {
	rules   []drains.Rule
	last    int64
	version int64
	exists  bool
}

func (s *Store) readRules(ctx context.Context, org, env string) (rulesItem, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: key(rulesID(org, env)), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return rulesItem{}, err
	}
	if out.Item == nil {
		return rulesItem{}, nil
	}
	it := rulesItem{exists: true, last: numAttr(out.Item[attrLast]), version: numAttr(out.Item[attrVersion])}
	if l, ok := out.Item[attrRules].(*types.AttributeValueMemberL); ok {
		for _, v := range l.Value {
			m, ok := v.(*types.AttributeValueMemberM)
			if !ok {
				return rulesItem{}, errors.New("rules item: a rule is not a map")
			}
			r := drains.Rule{Org: org, Env: env}
			if s, ok := m.Value[ruleAttrID].(*types.AttributeValueMemberS); ok {
				r.ID = s.Value
			}
			if s, ok := m.Value[ruleAttrText].(*types.AttributeValueMemberS); ok {
				r.Text = s.Value
			}
			r.CreatedAt = time.UnixMilli(numAttr(m.Value[ruleAttrAt])).UTC()
			it.rules = append(it.rules, r)
		}
	}
	return it, nil
}

func numAttr(v types.AttributeValue) int64 {
	n, ok := v.(*types.AttributeValueMemberN)
	if !ok {
		return 0
	}
	x, _ := strconv.ParseInt(n.Value, 10, 64)
	return x
}

// writeRules puts the item back if nobody wrote it since it was read.
func (s *Store) writeRules(ctx context.Context, org, env string, it rulesItem) error {
	list := make([]types.AttributeValue, len(it.rules))
	for i, r := range it.rules {
		list[i] = &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			ruleAttrID: str(r.ID), ruleAttrText: str(r.Text), ruleAttrAt: ms(r.CreatedAt),
		}}
	}
	in := &dynamodb.PutItemInput{
		TableName: aws.String(s.table),
		Item: map[string]types.AttributeValue{
			attrID: str(rulesID(org, env)), attrOrg: str(org), attrEnv: str(env),
			attrRules: &types.AttributeValueMemberL{Value: list}, attrLast: num(it.last), attrVersion: num(it.version + 1),
		},
		ExpressionAttributeNames: map[string]string{"#id": attrID},
	}
	if it.exists {
		in.ConditionExpression = aws.String("#version = :version")
		in.ExpressionAttributeNames["#version"] = attrVersion
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":version": num(it.version)}
		delete(in.ExpressionAttributeNames, "#id")
	} else {
		in.ConditionExpression = aws.String("attribute_not_exists(#id)")
	}
	_, err := s.db.PutItem(ctx, in)
	return err
}

// updateRules applies change to the org and env's rules, retrying when another writer won.
func (s *Store) updateRules(ctx context.Context, org, env string, change func(*rulesItem) error) error {
	for range maxRuleWriteAttempts {
		it, err := s.readRules(ctx, org, env)
		if err != nil {
			return err
		}
		if err := change(&it); err != nil {
			return err
		}
		err = s.writeRules(ctx, org, env, it)
		if err == nil {
			return nil
		}
		if !isConditionFailed(err) {
			return err
		}
	}
	return fmt.Errorf("%d concurrent writers won in a row: %w", maxRuleWriteAttempts, errors.New("rules item busy"))
}

// Rules returns the org and env's rules in order.
func (s *Store) Rules(ctx context.Context, org, env string) ([]drains.Rule, error) {
	it, err := s.readRules(ctx, org, env)
	if err != nil {
		return nil, fmt.Errorf("rules of %s/%s: %w", org, env, err)
	}
	return it.rules, nil
}

// AddRule appends a rule.
func (s *Store) AddRule(ctx context.Context, org, env, text string, at time.Time) (drains.Rule, error) {
	var added drains.Rule
	err := s.updateRules(ctx, org, env, func(it *rulesItem) error {
		if len(it.rules) >= drains.MaxRules {
			return drains.ErrTooManyRules
		}
		it.last++
		added = drains.Rule{ID: "r" + strconv.FormatInt(it.last, 10), Org: org, Env: env, Text: text, CreatedAt: at.UTC().Truncate(time.Millisecond)}
		it.rules = append(it.rules, added)
		return nil
	})
	if err != nil {
		return drains.Rule{}, fmt.Errorf("add rule to %s/%s: %w", org, env, err)
	}
	return added, nil
}

// RemoveRule removes one rule.
func (s *Store) RemoveRule(ctx context.Context, org, env, id string) error {
	err := s.updateRules(ctx, org, env, func(it *rulesItem) error {
		i := slices.IndexFunc(it.rules, func(r drains.Rule) bool { return r.ID == id })
		if i < 0 {
			return drains.ErrRuleNotFound
		}
		it.rules = slices.Delete(it.rules, i, i+1)
		return nil
	})
	if err != nil {
		return fmt.Errorf("remove rule %s of %s/%s: %w", id, org, env, err)
	}
	return nil
}
