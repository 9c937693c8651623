package alertstest_test

import (
	"testing"

	"github.com/aient/firehose-drain/pkg/alerts"
	"github.com/aient/firehose-drain/pkg/alerts/alertstest"
	"github.com/aient/firehose-drain/pkg/problems"
)

func TestMemoryDestinationsContract(t *testing.T) {
	alertstest.RunDestinations(t, func(*testing.T) alerts.Destinations { return alertstest.NewMemDestinations() })
}

func TestMemoryOutboxContract(t *testing.T) {
	alertstest.RunOutbox(t, func(*testing.T) (alerts.Outbox, func(problems.Notice)) {
		o := alertstest.NewMemOutbox()
		return o, o.Put
	})
}

func TestLocalRateContract(t *testing.T) {
	alertstest.RunRate(t, func(*testing.T) alerts.Rate { return alerts.NewLocalRate() })
}
