package cmdutil

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/schollz/progressbar/v3"
)

// WriteTable writes rows (the header first) in columns two spaces apart.
// trim drops the padding at line ends (rows whose last cells are empty).
func WriteTable(w io.Writer, rows [][]string, trim bool) error {
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	out := b.Bytes()
	if trim {
		var t bytes.Buffer
		for _, line := range strings.SplitAfter(b.String(), "\n") {
			t.WriteString(strings.TrimRight(line, " \n"))
			if strings.HasSuffix(line, "\n") {
				t.WriteByte('\n')
			}
		}
		out = t.Bytes()
	}
	_, err := w.Write(out)
	return err
}

// ObjectRows lays JSON objects out as table rows: a header naming every
// member, first (when present) leading and the others sorted, then one row
// per object, sorted by its first cell. Strings are printed as they are,
// other values as compact JSON. Nothing but the header when there is no
// object.
func ObjectRows(objects []json.RawMessage, first string) ([][]string, error) {
	objs := make([]map[string]json.RawMessage, 0, len(objects))
	cols := map[string]bool{}
	for _, o := range objects {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(o, &m); err != nil {
			return nil, err
		}
		for k := range m {
			cols[k] = true
		}
		objs = append(objs, m)
	}
	names := make([]string, 0, len(cols))
	for k := range cols {
		if k != first {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	if cols[first] {
		names = append([]string{first}, names...)
	}
	sort.SliceStable(objs, func(i, j int) bool { return cellText(objs[i][first]) < cellText(objs[j][first]) })
	rows := [][]string{names}
	for _, m := range objs {
		cells := make([]string, len(names))
		for i, n := range names {
			cells[i] = cellText(m[n])
		}
		rows = append(rows, cells)
	}
	return rows, nil
}

// cellText renders one JSON value for a table cell on one line.
func cellText(v json.RawMessage) string {
	if len(v) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(v, &s) == nil && s != "" && !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	return string(v) // compact JSON (strings with control characters stay quoted)
}

// HumanBytes renders n in KiB/MiB for people; JSON carries the exact count.
func HumanBytes(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// StartProgressBar draws a bar of total steps named desc on ErrOut and
// redraws it from poll (steps done, errors so far) until the returned stop
// is called, which clears it. Callers draw one on a terminal only.
func StartProgressBar(ios *IOStreams, total int64, desc string, poll func() (done, errors int64)) (stop func()) {
	bar := progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(ios.ErrOut),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowCount(),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionSetPredictTime(false),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionEnableColorCodes(!ios.NoColor),
	)
	quit, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				done, errs := poll()
				bar.Describe(fmt.Sprintf("%s · errors %d", desc, errs))
				_ = bar.Set64(done)
			}
		}
	}()
	return func() {
		close(quit)
		<-finished
		_ = bar.Finish()
		_ = bar.Clear()
	}
}

// Plural is "1 item", "2 items", "0 items".
func Plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
