// Package rules is the auto-publish rule language: a parser that turns a
// rule text into a typed rule set, with errors as LINE:COL: message, and a
// pure evaluator that decides, for an attack's facts, whether and when an
// incident is published and how far it escalates.
//
// One rule per line; # starts a comment:
//
//	severity >= high                      -> publish immediately
//	severity == medium                    -> publish after 60s if unresolved
//	severity == low                       -> do not publish
//	duration > 5m                         -> escalate to major_outage
//	duration > 30m                        -> escalate to critical
//	component "backup-*": severity < high -> do not publish
//	attack == amplification and bps > 10G -> publish immediately
package rules

import (
	"fmt"
	"strings"
	"unicode"
)

// Error is a problem in a rule text, at a line and column (both from 1).
type Error struct {
	Line, Col int
	Msg       string
}

func (e *Error) Error() string { return fmt.Sprintf("%d:%d: %s", e.Line, e.Col, e.Msg) }

// ErrorList holds every problem found in a text, in order.
type ErrorList []*Error

func (l ErrorList) Error() string {
	parts := make([]string, len(l))
	for i, e := range l {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

type tokKind int

const (
	tokEOF tokKind = iota
	tokWord
	tokString
	tokOp    // == != >= <= > <
	tokArrow // ->
	tokColon
	tokLParen
	tokRParen
)

type token struct {
	kind tokKind
	text string
	col  int // 1-based
}

// lexLine splits one line into tokens; comments end it.
func lexLine(line string, lineNo int) ([]token, *Error) {
	var out []token
	rs := []rune(line)
	for i := 0; i < len(rs); {
		c := rs[i]
		col := i + 1
		switch {
		case c == '#':
			return append(out, token{kind: tokEOF, col: col}), nil
		case unicode.IsSpace(c):
			i++
		case c == '"':
			j := i + 1
			var b strings.Builder
			for ; j < len(rs) && rs[j] != '"'; j++ {
				if rs[j] == '\\' && j+1 < len(rs) {
					j++
				}
				b.WriteRune(rs[j])
			}
			if j >= len(rs) {
				return nil, &Error{lineNo, col, "unterminated string: add the closing \""}
			}
			out = append(out, token{tokString, b.String(), col})
			i = j + 1
		case c == '-' && i+1 < len(rs) && rs[i+1] == '>':
			out = append(out, token{tokArrow, "->", col})
			i += 2
		case strings.ContainsRune("=!<>", c):
			if i+1 < len(rs) && rs[i+1] == '=' {
				out = append(out, token{tokOp, string(rs[i : i+2]), col})
				i += 2
			} else if c == '<' || c == '>' {
				out = append(out, token{tokOp, string(c), col})
				i++
			} else {
				return nil, &Error{lineNo, col, fmt.Sprintf("unknown operator %q: use ==, !=, >=, <=, > or <", string(c))}
			}
		case c == ':':
			out = append(out, token{tokColon, ":", col})
			i++
		case c == '(':
			out = append(out, token{tokLParen, "(", col})
			i++
		case c == ')':
			out = append(out, token{tokRParen, ")", col})
			i++
		case unicode.IsLetter(c) || unicode.IsDigit(c) || c == '_' || c == '.':
			j := i
			for j < len(rs) && (unicode.IsLetter(rs[j]) || unicode.IsDigit(rs[j]) || rs[j] == '_' || rs[j] == '.' || rs[j] == '-' && j+1 < len(rs) && rs[j+1] != '>') {
				j++
			}
			out = append(out, token{tokWord, string(rs[i:j]), col})
			i = j
		default:
			return nil, &Error{lineNo, col, fmt.Sprintf("unexpected character %q", string(c))}
		}
	}
	return append(out, token{kind: tokEOF, col: len(rs) + 1}), nil
}
