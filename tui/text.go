package tui

import (
	"math"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

// pad pads plain text with spaces to w cells (or cuts it to w-1 and a
// space, so columns never touch).
func pad(s string, w int) string {
	n := lipgloss.Width(s)
	if n >= w {
		return ansi.Truncate(s, w-1, "…") + " "
	}
	return s + strings.Repeat(" ", w-n)
}

// padStyled pads text that holds colour codes to w cells.
func padStyled(s string, w int) string {
	if n := lipgloss.Width(s); n < w {
		return s + strings.Repeat(" ", w-n)
	}
	return ansi.Truncate(s, w-1, "…") + " "
}

// truncate cuts a line, colour codes and all, to w cells.
func truncate(s string, w int) string { return ansi.Truncate(s, w, "…") }

// wrap wraps plain text at w cells, indenting continuation lines.
func wrap(s string, w int, indent string) string {
	if w < 20 {
		w = 20
	}
	return strings.ReplaceAll(ansi.Wordwrap(s, w-len(indent), " "), "\n", "\n"+indent)
}

// bars are a sparkline's levels, lowest first.
var bars = []rune("▁▂▃▄▅▆▇█")

// sparkline draws vs scaled from 0 to top (the largest value when top is
// 0), one cell per value; NaN draws a blank.
func sparkline(vs []float64, top float64) string {
	if top <= 0 {
		for _, v := range vs {
			if !math.IsNaN(v) {
				top = max(top, v)
			}
		}
	}
	var b strings.Builder
	for _, v := range vs {
		switch {
		case math.IsNaN(v):
			b.WriteRune(' ')
		case top <= 0 || v <= 0:
			b.WriteRune(bars[0])
		default:
			i := int(math.Round(v / top * float64(len(bars)-1)))
			b.WriteRune(bars[min(max(i, 0), len(bars)-1)])
		}
	}
	return b.String()
}
