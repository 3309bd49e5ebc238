package tui

import (
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// styles are the TUI's looks, from one renderer with a fixed colour
// profile (the CLI picks it: NO_COLOR, a pipe, a terminal).
type styles struct {
	r                          *lipgloss.Renderer
	title, tab, activeTab      lipgloss.Style
	faint, bold, good, warn    lipgloss.Style
	bad, selected, help, frame lipgloss.Style
	heat                       [4]lipgloss.Style // no data, within, warn, fail
	fault, isr                 lipgloss.Style
}

func newStyles(p termenv.Profile) styles {
	r := lipgloss.NewRenderer(nil, termenv.WithProfile(p))
	r.SetColorProfile(p)
	s := styles{r: r}
	s.title = r.NewStyle().Bold(true)
	s.tab = r.NewStyle().Padding(0, 1).Foreground(lipgloss.Color("245"))
	s.activeTab = r.NewStyle().Padding(0, 1).Bold(true).Reverse(true)
	s.faint = r.NewStyle().Faint(true)
	s.bold = r.NewStyle().Bold(true)
	s.good = r.NewStyle().Foreground(lipgloss.Color("2"))
	s.warn = r.NewStyle().Foreground(lipgloss.Color("3"))
	s.bad = r.NewStyle().Foreground(lipgloss.Color("1")).Bold(true)
	s.selected = r.NewStyle().Reverse(true)
	s.help = r.NewStyle().Foreground(lipgloss.Color("245"))
	s.frame = r.NewStyle().Border(lipgloss.NormalBorder()).Padding(0, 1)
	s.heat = [4]lipgloss.Style{
		r.NewStyle().Faint(true),
		r.NewStyle().Foreground(lipgloss.Color("0")).Background(lipgloss.Color("2")),
		r.NewStyle().Foreground(lipgloss.Color("0")).Background(lipgloss.Color("3")),
		r.NewStyle().Foreground(lipgloss.Color("15")).Background(lipgloss.Color("1")),
	}
	s.fault = r.NewStyle().Foreground(lipgloss.Color("1"))
	s.isr = r.NewStyle().Foreground(lipgloss.Color("2"))
	return s
}
