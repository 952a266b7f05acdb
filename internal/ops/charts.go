package ops

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// The charts are SVG drawn on the server: they need no JavaScript and no chart library, and
// they are in the HTML the server sends. The template draws what these structs describe.

const (
	chartW, chartH = 720, 200
	chartPad       = 4
	chartLeft      = 44 // room for the scale
	chartBottom    = 22 // room for the dates
	maxDateTicks   = 7
)

type chartPoint struct {
	X, Y  float64
	Label string
}

// chartTick is a labelled place on an axis.
type chartTick struct {
	X, Y   float64
	Label  string
	Anchor string // of the label's text: start, middle or end
}

type lineChart struct {
	W, H        int
	Total       string // SVG path of total views per day
	Unique      string // SVG path of unique views per day
	Area        string // area under Total
	Points      []chartPoint
	Max         int64
	First, Last string // dates at either end
	Empty       bool
	YTicks      []chartTick // the scale: 0, half the top and the top, with a grid line each
	XTicks      []chartTick // a few dates, the first and the last among them
	Right       int         // x of the plot's right edge, for the grid lines
	Today       bool        // the last day is today, counted so far
	Second      string      // what the second line counts: "unique" views, or "visitors"
}

// newLineChart draws views per day, total and unique, scaled to the highest day.
func newLineChart(points []Point) lineChart { return drawLines(points, "unique") }

// drawLines draws views per day and a second count per day (unique views, or visitors) named
// second.
func drawLines(points []Point, second string) lineChart {
	c := lineChart{W: chartW, H: chartH, Second: second}
	if len(points) == 0 {
		c.Empty = true
		return c
	}
	for _, p := range points {
		c.Max = max(c.Max, p.Total)
	}
	c.Empty = c.Max == 0
	scale := float64(c.Max)
	if scale == 0 {
		scale = 1
	}
	x := func(i int) float64 {
		if len(points) == 1 {
			return (chartLeft + chartW) / 2
		}
		return round1(chartLeft + float64(i)*(chartW-chartLeft-chartPad)/float64(len(points)-1))
	}
	bottom := float64(chartH - chartBottom)
	y := func(v int64) float64 { return round1(bottom - float64(v)/scale*(bottom-chartPad)) }
	c.Right = chartW - chartPad
	for _, v := range []int64{0, c.Max / 2, c.Max} {
		if v == 0 || v != c.Max/2 || c.Max >= 2 { // no "0, 0, 1" on a quiet chart
			c.YTicks = append(c.YTicks, chartTick{X: chartLeft - 6, Y: y(v), Label: formatNumber(v), Anchor: "end"})
		}
	}
	step := max(1, (len(points)+maxDateTicks-2)/(maxDateTicks-1))
	for i := 0; i < len(points); i += step {
		if len(points)-1-i < step && i != 0 {
			continue // too close to the last date, which comes next
		}
		anchor := "middle"
		if i == 0 && len(points) > 1 {
			anchor = "start"
		}
		c.XTicks = append(c.XTicks, chartTick{X: x(i), Y: chartH - 6, Label: dateTick(points[i].Date), Anchor: anchor})
	}
	if last := len(points) - 1; last > 0 {
		c.XTicks = append(c.XTicks, chartTick{X: x(last), Y: chartH - 6, Label: dateTick(points[last].Date), Anchor: "end"})
	}
	var total, unique strings.Builder
	for i, p := range points {
		cmd := "L"
		if i == 0 {
			cmd = "M"
		}
		fmt.Fprintf(&total, "%s%g %g ", cmd, x(i), y(p.Total))
		fmt.Fprintf(&unique, "%s%g %g ", cmd, x(i), y(p.Unique))
		label := fmt.Sprintf("%s: %s views, %s %s", p.Date, formatNumber(p.Total), formatNumber(p.Unique), second)
		if p.Partial {
			label += " (today so far)"
		}
		c.Points = append(c.Points, chartPoint{X: x(i), Y: y(p.Total), Label: label})
	}
	c.Total = strings.TrimSpace(total.String())
	c.Unique = strings.TrimSpace(unique.String())
	c.Area = fmt.Sprintf("%s L%g %g L%g %g Z", c.Total, x(len(points)-1), bottom, x(0), bottom)
	c.First, c.Last = points[0].Date, points[len(points)-1].Date
	c.Today = points[len(points)-1].Partial
	return c
}

type donutSlice struct {
	Type   string
	Views  int64
	Pct    float64
	Dash   string // stroke-dasharray on a circle whose circumference is 100
	Offset float64
	Class  string
}

type donutChart struct {
	Slices []donutSlice
	Total  int64
}

// newDonut draws views by type as arcs of one circle (stroke-dasharray on a circumference of
// 100, so each slice's length is its percentage).
func newDonut(types []TypeViews) donutChart {
	var d donutChart
	for _, t := range types {
		d.Total += t.Views
	}
	if d.Total == 0 {
		return d
	}
	start := 0.0
	for i, t := range types {
		pct := float64(t.Views) / float64(d.Total) * 100
		d.Slices = append(d.Slices, donutSlice{
			Type: t.Type, Views: t.Views, Pct: round1(pct),
			Dash:   fmt.Sprintf("%g %g", round1(pct), round1(100-pct)),
			Offset: round1(25 - start), // 25 starts the first slice at twelve o'clock
			Class:  fmt.Sprintf("s%d", i%8),
		})
		start += pct
	}
	return d
}

// dateTick writes 2026-11-24 as "Nov 24".
func dateTick(date string) string {
	t, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return date
	}
	return t.Format("Jan 2")
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }
