// Splitting an inline request line ("SET a \"b c\"", as typed into telnet or nc) into
// arguments, with exactly the rules of Redis 7.0 (sdssplitargs), checked against
// redis-server 7.0.15:
//
//   - Arguments are separated by runs of blanks: space, \t, \n, \v, \f, \r.
//   - An unquoted run ends at space, \t, \n or \r only: \v and \f inside a word are kept
//     ("a\vb" is one argument).
//   - A word may end in one quoted part: a"b c" is the argument `ab c`. After the closing
//     quote the argument ends, and the quote must be followed by a blank or the end of
//     the line, otherwise the line has unbalanced quotes ("a"b is an error).
//   - Inside double quotes: \xHH (two hex digits, any case) is that byte; \n \r \t \b \a
//     are the control characters; a backslash before any other byte is that byte
//     ("\q" is q, "\"" is ", "\xZZ" is xZZ).
//   - Inside single quotes only \' is an escape; every other byte, backslash included,
//     is literal.
//   - A quote still open at the end of the line is an error (unbalanced quotes).
//
// The line never contains NUL: Redis stops looking for the line end at a NUL byte, and
// RequestParser mirrors that before calling here.
//
// Zero copy where possible: an argument without quotes is a view into `line`; a quoted
// one is decoded into `scratch`. scratch is cleared and reserved to line.size() first (a
// decoded argument is never longer than its source), so it does not reallocate while the
// views into it are being made; they stay valid until scratch is next modified.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cascade::resp {

// Replaces `out` with the arguments of `line` (which excludes the line terminator).
// Returns false when the quotes are unbalanced; `out` is then unspecified.
bool split_inline_args(std::string_view line, std::string& scratch,
                       std::vector<std::string_view>& out);

}  // namespace cascade::resp
