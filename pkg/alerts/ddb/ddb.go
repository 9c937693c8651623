// Package ddb keeps alert destinations in the problems table (items destination#<id>)
// and their secrets in AWS Secrets Manager: the alerts.Destinations and
// alerts.SecretStore of the deployed stack.
//
// A destination item holds the destination as JSON (body, S) and its delivery status in
// attributes of their own (health S, lastSentAt N ms, lastError S, lastErrorAt N ms, sent
// N, deadLettered N), so that reports are single UpdateItems that never lose a count.
// No secret is in the item: only the secret's ARN (secretRef). The items are listed by a
// Query of the table's byProblem index (of = "alert-destinations"), never a Scan: the
// table is mostly occurrences.
package ddb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/aient/firehose-drain/internal/ddbitem"
	"github.com/aient/firehose-drain/pkg/alerts"
	problemsddb "github.com/aient/firehose-drain/pkg/problems/ddb"
)

const (
	prefix          = "destination#"
	attrPK          = "pk"
	attrBody        = "body"
	attrHealth      = "health"
	attrLastSent    = "lastSentAt"
	attrLastError   = "lastError"
	attrLastErrorAt = "lastErrorAt"
	attrSent        = "sent"
	attrDead        = "deadLettered"
	attrOf          = "of"
	attrSK          = "sk"
	destinationsOf  = "alert-destinations"
)

// DB is the part of the DynamoDB client the destinations use.
type DB interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

var _ DB = (*dynamodb.Client)(nil)

// Destinations is alerts.Destinations over the problems table.
type Destinations struct {
	db    DB
	table string
}

var _ alerts.Destinations = (*Destinations)(nil)

// NewDestinations returns the destinations kept in table (the problems table).
func NewDestinations(db DB, table string) *Destinations { return &Destinations{db: db, table: table} }

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: fmt.Sprint(n)}
}

func key(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: str(prefix + id)}
}

// Add implements alerts.Destinations.
func (d *Destinations) Add(ctx context.Context, dest alerts.Destination) error {
	dest.Status = alerts.Status{}
	body, err := json.Marshal(dest)
	if err != nil {
		return fmt.Errorf("add destination %s: %w", dest.ID, err)
	}
	_, err = d.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(d.table),
		Item: map[string]types.AttributeValue{
			attrPK: str(prefix + dest.ID), attrBody: str(string(body)), attrHealth: str(string(alerts.Healthy)),
			attrOf: str(destinationsOf), attrSK: str(prefix + dest.ID),
		},
		ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": attrPK},
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return fmt.Errorf("add destination: %w: id %s is taken", alerts.ErrInvalid, dest.ID)
	}
	if err != nil {
		return fmt.Errorf("add destination %s: %w", dest.ID, err)
	}
	return nil
}

func destinationOf(item map[string]types.AttributeValue) (alerts.Destination, error) {
	r := ddbitem.Reader{Item: item}
	var dest alerts.Destination
	if err := json.Unmarshal([]byte(r.Str(attrBody)), &dest); err != nil {
		return dest, fmt.Errorf("destination item %s: %w", r.Str(attrPK), err)
	}
	dest.Status = alerts.Status{
		Health:       alerts.Health(r.Str(attrHealth)),
		LastSentAt:   msTime(r.Num(attrLastSent)),
		LastError:    r.Str(attrLastError),
		LastErrorAt:  msTime(r.Num(attrLastErrorAt)),
		Sent:         r.Num(attrSent),
		DeadLettered: r.Num(attrDead),
	}
	if dest.Health == "" {
		dest.Health = alerts.Healthy
	}
	if r.Err() != nil {
		return dest, fmt.Errorf("destination item %s: %w", r.Str(attrPK), r.Err())
	}
	return dest, nil
}

func msTime(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// List implements alerts.Destinations.
func (d *Destinations) List(ctx context.Context) ([]alerts.Destination, error) {
	var (
		out   []alerts.Destination
		start map[string]types.AttributeValue
	)
	for {
		page, err := d.db.Query(ctx, &dynamodb.QueryInput{
			TableName:                 aws.String(d.table),
			IndexName:                 aws.String(problemsddb.ProblemIndex),
			KeyConditionExpression:    aws.String("#of = :of"),
			ExpressionAttributeNames:  map[string]string{"#of": attrOf},
			ExpressionAttributeValues: map[string]types.AttributeValue{":of": str(destinationsOf)},
			ExclusiveStartKey:         start,
		})
		if err != nil {
			return nil, fmt.Errorf("list destinations: %w", err)
		}
		for _, item := range page.Items {
			dest, err := destinationOf(item)
			if err != nil {
				return nil, fmt.Errorf("list destinations: %w", err)
			}
			out = append(out, dest)
		}
		if len(page.LastEvaluatedKey) == 0 {
			break
		}
		start = page.LastEvaluatedKey
	}
	slices.SortFunc(out, func(a, b alerts.Destination) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// Get implements alerts.Destinations.
func (d *Destinations) Get(ctx context.Context, id string) (alerts.Destination, error) {
	out, err := d.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(d.table), Key: key(id), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return alerts.Destination{}, fmt.Errorf("get destination %s: %w", id, err)
	}
	if out.Item == nil {
		return alerts.Destination{}, fmt.Errorf("destination %q: %w", id, alerts.ErrNotFound)
	}
	return destinationOf(out.Item)
}

// Remove implements alerts.Destinations.
func (d *Destinations) Remove(ctx context.Context, id string) error {
	_, err := d.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(d.table), Key: key(id),
		ConditionExpression:      aws.String("attribute_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": attrPK},
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return fmt.Errorf("destination %q: %w", id, alerts.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("remove destination %s: %w", id, err)
	}
	return nil
}

// Report records an outcome with single UpdateItems on the destination's item (none when
// it was removed meanwhile).
func (d *Destinations) Report(ctx context.Context, id string, r alerts.Report) error {
	upd := func(expr, cond string, names map[string]string, values map[string]types.AttributeValue) error {
		names["#pk"] = attrPK
		c := "attribute_exists(#pk)"
		if cond != "" {
			c += " AND " + cond
		}
		_, err := d.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String(d.table), Key: key(id), UpdateExpression: aws.String(expr),
			ConditionExpression: aws.String(c), ExpressionAttributeNames: names, ExpressionAttributeValues: values,
		})
		var ccf *types.ConditionalCheckFailedException
		if errors.As(err, &ccf) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("report on destination %s: %w", id, err)
		}
		return nil
	}
	at := num(r.At.UnixMilli())
	switch {
	case r.Err == "":
		return upd("SET #h = :ok, #ls = :at ADD #sent :one", "", map[string]string{"#h": attrHealth, "#ls": attrLastSent, "#sent": attrSent},
			map[string]types.AttributeValue{":ok": str(string(alerts.Healthy)), ":at": at, ":one": num(1)})
	case r.Dead:
		return upd("SET #h = :failing, #le = :err, #lea = :at ADD #dead :one", "", map[string]string{"#h": attrHealth, "#le": attrLastError, "#lea": attrLastErrorAt, "#dead": attrDead},
			map[string]types.AttributeValue{":failing": str(string(alerts.Failing)), ":err": str(r.Err), ":at": at, ":one": num(1)})
	}
	if err := upd("SET #le = :err, #lea = :at", "", map[string]string{"#le": attrLastError, "#lea": attrLastErrorAt},
		map[string]types.AttributeValue{":err": str(r.Err), ":at": at}); err != nil {
		return err
	}
	return upd("SET #h = :retrying", "#h <> :failing", map[string]string{"#h": attrHealth},
		map[string]types.AttributeValue{":retrying": str(string(alerts.Retrying)), ":failing": str(string(alerts.Failing))})
}

// SecretsAPI is the part of the Secrets Manager client the secret store uses.
type SecretsAPI interface {
	CreateSecret(ctx context.Context, in *secretsmanager.CreateSecretInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.CreateSecretOutput, error)
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
	DeleteSecret(ctx context.Context, in *secretsmanager.DeleteSecretInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.DeleteSecretOutput, error)
}

var _ SecretsAPI = (*secretsmanager.Client)(nil)

// DefaultSecretPrefix names the secrets when no prefix is given; the stack's is its
// output AlertSecretPrefix ("<stack>/alerts/"), which the alerts function may read.
const DefaultSecretPrefix = "aient/alerts/"

// secretTTL is how long the alerts function keeps a secret it read.
const secretTTL = 5 * time.Minute

// Secrets is alerts.SecretStore over Secrets Manager: one secret per destination, named
// prefix + id, referred to by its ARN; values cached for a few minutes.
type Secrets struct {
	sm     SecretsAPI
	prefix string
	now    func() time.Time

	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	v  alerts.Secret
	at time.Time
}

var _ alerts.SecretStore = (*Secrets)(nil)

// NewSecrets returns the secret store under prefix ("" is DefaultSecretPrefix).
func NewSecrets(sm SecretsAPI, prefix string) *Secrets {
	if prefix == "" {
		prefix = DefaultSecretPrefix
	}
	return &Secrets{sm: sm, prefix: prefix, now: time.Now, cache: map[string]cached{}}
}

// PutSecret implements alerts.SecretStore.
func (s *Secrets) PutSecret(ctx context.Context, id string, v alerts.Secret) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("store the secret of %s: %w", id, err)
	}
	out, err := s.sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name:         aws.String(s.prefix + id),
		Description:  aws.String("firehose-drain alert destination " + id + ": its URL and signing key"),
		SecretString: aws.String(string(b)),
	})
	if err != nil {
		return "", fmt.Errorf("store the secret of %s: %w", id, err)
	}
	return aws.ToString(out.ARN), nil
}

// GetSecret implements alerts.SecretStore.
func (s *Secrets) GetSecret(ctx context.Context, ref string) (alerts.Secret, error) {
	s.mu.Lock()
	c, ok := s.cache[ref]
	s.mu.Unlock()
	if ok && s.now().Sub(c.at) < secretTTL {
		return c.v, nil
	}
	out, err := s.sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(ref)})
	if err != nil {
		return alerts.Secret{}, fmt.Errorf("read secret %s: %w", ref, err)
	}
	var v alerts.Secret
	if err := json.Unmarshal([]byte(aws.ToString(out.SecretString)), &v); err != nil {
		return alerts.Secret{}, fmt.Errorf("read secret %s: not an alert destination's secret", ref)
	}
	s.mu.Lock()
	s.cache[ref] = cached{v: v, at: s.now()}
	s.mu.Unlock()
	return v, nil
}

// DeleteSecret implements alerts.SecretStore.
func (s *Secrets) DeleteSecret(ctx context.Context, ref string) error {
	s.mu.Lock()
	delete(s.cache, ref)
	s.mu.Unlock()
	_, err := s.sm.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String(ref), ForceDeleteWithoutRecovery: aws.Bool(true)})
	var nf *smtypes.ResourceNotFoundException
	if err != nil && !errors.As(err, &nf) {
		return fmt.Errorf("delete secret %s: %w", ref, err)
	}
	return nil
}
