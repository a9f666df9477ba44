package probe

import (
	"fmt"
	"strings"
)

// MaxErrors bounds the errors a Result keeps; later ones are counted.
const MaxErrors = 8

// AddError records one partial failure. One rule for every prober: every
// error is kept in the order met (first MaxErrors verbatim, then
// "(+N more)"), joined with "; " into Result.Error. A nil err is ignored.
func (r *Result) AddError(err error) {
	if err != nil {
		r.AddErrorf("%s", err.Error())
	}
}

// ClearErrors forgets the errors recorded so far (a prober whose final
// verdict makes them moot, like webdump's failed guesses at dump paths).
func (r *Result) ClearErrors() {
	r.errs, r.Error = nil, ""
}

// AddErrorf is AddError with a formatted message.
func (r *Result) AddErrorf(format string, args ...any) {
	msg := strings.TrimSpace(fmt.Sprintf(format, args...))
	if msg == "" {
		return
	}
	r.errs = append(r.errs, msg)
	kept := r.errs[:min(len(r.errs), MaxErrors)]
	r.Error = strings.Join(kept, "; ")
	if more := len(r.errs) - len(kept); more > 0 {
		r.Error += fmt.Sprintf(" (+%d more)", more)
	}
}
