package clients

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

// This file is a hand-written scanner for .properties text, and it exists
// only to find line numbers: github.com/magiconair/properties parses the
// file (escapes, continuation lines, separators, comments) but keeps no
// position for a key, and findings must point at the line a setting is on.
//
// The scanner walks the same text the library parses (after
// normalizeNewlines, so every line ends in LF, and without the leading byte
// order mark the library drops), splits it into logical lines
// by the rules the library's lexer follows, and decodes each key exactly as
// the library does, so that its keys can be matched with the library's:
//
//   - blank lines and leading spaces, tabs and form feeds are skipped;
//   - a line whose first non-blank character is # or ! is a comment, and a
//     comment never continues onto the next line;
//   - a key runs to the first unescaped space, tab, form feed, line end, :
//     or =; in a key, \ escapes the next character (\f \n \r \t and \uXXXX
//     decode, anything else stands for itself, a line end included);
//   - a value runs to the line end, and a \ right before the line end joins
//     the next line (minus its leading blanks) to the value.
//
// It also reports the syntax errors the library would report, but with the
// line where the problem is and without quoting the file.

// lineError is a syntax error at a line; it formats as "line: message".
type lineError struct {
	line int
	msg  string
}

func (e *lineError) Error() string { return fmt.Sprintf("%d: %s", e.line, e.msg) }

// scanKeys returns the line each key of text starts on; for a key written
// more than once, the line of the last one. text must use LF line ends.
func scanKeys(text string) (map[string]int, error) {
	lines, _, err := scanAllKeys(text)
	return lines, err
}

// scanAllKeys is scanKeys that also returns, per key written more than
// once, the lines of its earlier occurrences.
func scanAllKeys(text string) (map[string]int, map[string][]int, error) {
	lines := make(map[string]int)
	earlier := map[string][]int{}
	s := scanner{text: text, line: 1}
	for s.pos < len(s.text) {
		switch s.text[s.pos] {
		case '\n':
			s.line++
			s.pos++
			continue
		case ' ', '\t', '\f':
			s.pos++
			continue
		case '#', '!':
			s.skipToLineEnd()
			continue
		case ':', '=':
			return nil, nil, &lineError{s.line, "separator without a key before it"}
		}
		start := s.line
		key, err := s.key()
		if err != nil {
			return nil, nil, err
		}
		if err := s.value(); err != nil {
			return nil, nil, err
		}
		if prev, ok := lines[key]; ok {
			earlier[key] = append(earlier[key], prev)
		}
		lines[key] = start
	}
	return lines, earlier, nil
}

// scanner is the position in the text being scanned.
type scanner struct {
	text string
	pos  int
	line int
}

// skipToLineEnd moves to the next LF (not consuming it) or the end.
func (s *scanner) skipToLineEnd() {
	for s.pos < len(s.text) && s.text[s.pos] != '\n' {
		s.pos++
	}
}

// skipBlanks skips spaces, tabs and form feeds.
func (s *scanner) skipBlanks() {
	for s.pos < len(s.text) {
		switch s.text[s.pos] {
		case ' ', '\t', '\f':
			s.pos++
		default:
			return
		}
	}
}

// key decodes a key and stops before the character that ends it.
func (s *scanner) key() (string, error) {
	var rs []rune
	for s.pos < len(s.text) {
		r, w := utf8.DecodeRuneInString(s.text[s.pos:])
		switch r {
		case ' ', '\t', '\f', '\r', '\n', ':', '=':
			return string(rs), nil
		case '\\':
			s.pos += w
			if s.pos >= len(s.text) {
				return "", &lineError{s.line, "backslash at end of file"}
			}
			e, w := utf8.DecodeRuneInString(s.text[s.pos:])
			s.pos += w
			switch e {
			case 'u':
				u, err := s.unicode()
				if err != nil {
					return "", err
				}
				rs = append(rs, u)
			case 'f':
				rs = append(rs, '\f')
			case 'n':
				rs = append(rs, '\n')
			case 'r':
				rs = append(rs, '\r')
			case 't':
				rs = append(rs, '\t')
			case '\n':
				// The library keeps an escaped line end in the key.
				s.line++
				rs = append(rs, '\n')
			default:
				rs = append(rs, e)
			}
		default:
			s.pos += w
			rs = append(rs, r)
		}
	}
	return string(rs), nil
}

// value skips the separator and the value, following continuation lines,
// and stops before the LF that ends it.
func (s *scanner) value() error {
	s.skipBlanks()
	if s.pos < len(s.text) && (s.text[s.pos] == ':' || s.text[s.pos] == '=') {
		s.pos++
	}
	s.skipBlanks()
	for s.pos < len(s.text) {
		// Bytes suffice here: the only characters that matter are ASCII,
		// and no byte of a multi-byte UTF-8 sequence is ASCII.
		switch s.text[s.pos] {
		case '\n':
			return nil
		case '\\':
			s.pos++
			if s.pos >= len(s.text) {
				return &lineError{s.line, "backslash at end of file"}
			}
			switch s.text[s.pos] {
			case '\n':
				s.pos++
				s.line++
				s.skipBlanks()
			case 'u':
				s.pos++
				if _, err := s.unicode(); err != nil {
					return err
				}
			default:
				_, w := utf8.DecodeRuneInString(s.text[s.pos:])
				s.pos += w
			}
		default:
			s.pos++
		}
	}
	return nil
}

// unicode decodes the four hex digits after \u.
func (s *scanner) unicode() (rune, error) {
	if len(s.text)-s.pos < 4 {
		return 0, &lineError{s.line, `invalid unicode escape: \u needs four hex digits`}
	}
	hex := s.text[s.pos : s.pos+4]
	for i := 0; i < 4; i++ {
		if !isHex(hex[i]) {
			return 0, &lineError{s.line, `invalid unicode escape: \u needs four hex digits`}
		}
	}
	n, _ := strconv.ParseUint(hex, 16, 32)
	s.pos += 4
	return rune(n), nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
