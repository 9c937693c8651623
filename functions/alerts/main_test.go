package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"
)

func TestSetupNamesTheMissingProblemsTable(t *testing.T) {
	_, err := setup(context.Background(), func(string) string { return "" }, slog.Default())
	if err == nil || !strings.Contains(err.Error(), envProblemsTable) {
		t.Fatalf("setup without %s: %v, want an error naming it", envProblemsTable, err)
	}
}
