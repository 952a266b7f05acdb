package item

// Excluded is how many beacons of one site and UTC day were not counted for one reason, or came
// from one bot. Kind says which: ExcludedReason rows have a reason as Name (see DESIGN.md:
// "bot", "prefetch", …), ExcludedBot rows a bot's product token ("Googlebot"), never a whole
// User-Agent.
type Excluded struct {
	Site  string
	Day   string // YYYY-MM-DD, UTC
	Kind  string
	Name  string
	Count int64
}

// Kinds of Excluded rows.
const (
	ExcludedReason = "reason"
	ExcludedBot    = "bot"
)
