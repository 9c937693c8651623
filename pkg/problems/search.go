package problems

import "strings"

// MaxSearchMessage is how much of the sample message (bytes) the text filter searches.
const MaxSearchMessage = 2048

// SearchText is what Query.Text is searched in, as both stores keep it with the problem
// (written in the write that sets the title and the sample): the title, the culprit and
// the start of the sample message, lower-cased as the query is (SearchQuery).
func SearchText(title, culprit, message string) string {
	if len(message) > MaxSearchMessage {
		message = message[:MaxSearchMessage]
	}
	return strings.ToLower(title + "\n" + culprit + "\n" + message)
}

// SearchQuery is Query.Text as it is looked for in SearchText: lower-cased.
func SearchQuery(text string) string { return strings.ToLower(text) }
