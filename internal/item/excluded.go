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

// OtherSites is the site of exclusions of every site a write model does not keep (the bounds
// refused it, or it never had a counted view) and the owner did not list: one row a day for
// all of them, however many hosts a flood names.
const OtherSites = "(other sites)"
