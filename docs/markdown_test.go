package docs

import (
	"fmt"
	"regexp"
	"strings"
)

// A codeBlock is one code block of a Markdown file: fenced (``` or ~~~) or
// indented by four spaces outside a list.
type codeBlock struct {
	file string
	line int    // 1-based line of the opening fence or first indented line
	info string // the fence's info string, lower case ("" when untagged)
	text string // the contents, newline-terminated, indentation removed
	// notTested is the reason given by a <!-- not-tested: reason --> comment
	// on the last non-blank line before the block; "" when there is none.
	notTested string
}

// where names the block for messages: file:line.
func (b codeBlock) where() string {
	return fmt.Sprintf("%s:%d", b.file, b.line)
}

var (
	fenceRE     = regexp.MustCompile("^ {0,3}(```+|~~~+)\\s*([^`\\s]*)")
	listItemRE  = regexp.MustCompile(`^\s*([-*+]|\d+[.)])\s`)
	notTestedRE = regexp.MustCompile(`^\s*<!--\s*not-tested:\s*(.*?)\s*-->\s*$`)
)

// codeBlocks returns the code blocks of a Markdown document.
func codeBlocks(file, doc string) []codeBlock {
	var (
		blocks   []codeBlock
		lines    = strings.Split(doc, "\n")
		lastText string // last non-blank line outside blocks
		inList   bool
	)
	marker := func() string {
		if m := notTestedRE.FindStringSubmatch(lastText); m != nil {
			if m[1] == "" {
				return "(no reason given)"
			}
			return m[1]
		}
		return ""
	}
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if m := fenceRE.FindStringSubmatch(line); m != nil {
			indent := len(line) - len(strings.TrimLeft(line, " "))
			b := codeBlock{file: file, line: i + 1, info: strings.ToLower(m[2]), notTested: marker()}
			var body strings.Builder
			for i++; i < len(lines); i++ {
				l := lines[i]
				if closesFence(l, m[1]) {
					break
				}
				for k := 0; k < indent && strings.HasPrefix(l, " "); k++ {
					l = l[1:]
				}
				body.WriteString(l + "\n")
			}
			b.text = body.String()
			blocks = append(blocks, b)
			lastText = line
			continue
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		prevBlank := i > 0 && strings.TrimSpace(lines[i-1]) == ""
		if strings.HasPrefix(line, "    ") && prevBlank && !inList {
			b := codeBlock{file: file, line: i + 1, notTested: marker()}
			var body strings.Builder
			for ; i < len(lines); i++ {
				l := lines[i]
				if strings.TrimSpace(l) != "" && !strings.HasPrefix(l, "    ") {
					break
				}
				body.WriteString(strings.TrimPrefix(l, "    ") + "\n")
			}
			i--
			b.text = strings.TrimRight(body.String(), "\n") + "\n"
			blocks = append(blocks, b)
			lastText = "    "
			continue
		}
		switch {
		case listItemRE.MatchString(line):
			inList = true
		case !strings.HasPrefix(line, " ") && !strings.HasPrefix(line, "\t"):
			inList = false
		}
		lastText = line
	}
	return blocks
}

// closesFence reports whether line closes a block opened with fence.
func closesFence(line, fence string) bool {
	c := strings.TrimSpace(line)
	return len(c) >= len(fence) && strings.Trim(c, fence[:1]) == "" && len(line)-len(strings.TrimLeft(line, " ")) <= 3
}
