"""Go's text rules, on bytes as Go strings are: quoting, UTF-8 decoding, whitespace, Atoi.

The runtime's error messages quote user input with `strconv.Quote` (fmt `%q`, `NumError`) or
with the time package's own `quote`; these give the same text. Read from the Go 1.26 sources
(`strconv/quote.go`, `internal/strconv/atoi.go`, `strconv/number.go`, `time/format.go`,
`unicode/graphic.go`, `strings/strings.go`), identical in Go 1.25.5.
"""

from __future__ import annotations

import unicodedata

RUNE_ERROR = 0xFFFD
_LOWERHEX = "0123456789abcdef"
_INT64_MAX = (1 << 63) - 1
_UINT64_MAX = (1 << 64) - 1
_UINT64_CUTOFF = _UINT64_MAX // 10 + 1  # ParseUint's base-10 cutoff
# Go's White_Space outside Latin-1 (unicode/tables.go), and its Latin-1 special case.
_LATIN1_SPACE = frozenset(b"\t\n\v\f\r \x85\xa0")
_WHITE_SPACE_RANGES: tuple[tuple[int, int], ...] = (
    (0x1680, 0x1680),
    (0x2000, 0x200A),
    (0x2028, 0x2029),
    (0x202F, 0x202F),
    (0x205F, 0x205F),
    (0x3000, 0x3000),
)
_ESCAPES = dict(zip(b"\a\b\f\n\r\t\v", ["\\" + c for c in "abfnrtv"], strict=True))


def to_go(text: str) -> bytes:
    """A Python string as the bytes a Go string holds (lone surrogates map back to bytes)."""
    return text.encode("utf-8", "surrogateescape")


def from_go(data: bytes) -> str:
    """Go bytes as a Python string, losslessly: invalid UTF-8 becomes lone surrogates."""
    return data.decode("utf-8", "surrogateescape")


def decode_rune(data: bytes, i: int) -> tuple[int, int]:
    """`utf8.DecodeRuneInString(data[i:])`: (rune, width); (RUNE_ERROR, 1) on bad UTF-8.

    Python's strict decoder refuses what Go refuses: overlong forms, surrogates, > U+10FFFF.
    """
    first = data[i]
    if first < 0x80:
        return first, 1
    width = 2 if 0xC2 <= first <= 0xDF else 3 if 0xE0 <= first <= 0xEF else 4
    if not 0xC2 <= first <= 0xF4:
        return RUNE_ERROR, 1
    try:
        return ord(data[i : i + width].decode("utf-8")), width
    except UnicodeDecodeError:
        return RUNE_ERROR, 1


def runes(data: bytes) -> list[tuple[int, int, int]]:
    """`for i, r := range s`: (offset, rune, width) per rune."""
    out, i = [], 0
    while i < len(data):
        rune, width = decode_rune(data, i)
        out.append((i, rune, width))
        i += width
    return out


def is_print(rune: int) -> bool:
    """`strconv.IsPrint`: letters, marks, numbers, punctuation, symbols and U+0020.

    Outside Latin-1, Python's Unicode database stands in for Go's tables (Go 1.26: Unicode 15.0;
    Python 3.11: 14.0), so a character new in 15.0 is quoted as an escape where Go prints it.
    """
    if rune <= 0xFF:
        return 0x20 <= rune <= 0x7E or (0xA1 <= rune <= 0xFF and rune != 0xAD)
    if 0xD800 <= rune <= 0xDFFF or rune > 0x10FFFF:
        return False
    return unicodedata.category(chr(rune))[0] in "LMNPS"


def is_space(rune: int) -> bool:
    """`unicode.IsSpace`."""
    if rune <= 0xFF:
        return rune in _LATIN1_SPACE
    return any(lo <= rune <= hi for lo, hi in _WHITE_SPACE_RANGES)


def is_blank(data: bytes) -> bool:
    """`strings.TrimSpace(s) == ""`: every rune is Unicode white space (bad UTF-8 is not)."""
    return all(is_space(rune) for _, rune, _ in runes(data))


def quote(data: bytes) -> str:
    """`strconv.Quote`: double-quoted, Go escapes for what is not printable, `\\x` per bad byte."""
    out = ['"']
    for i, rune, width in runes(data):
        if width == 1 and rune == RUNE_ERROR:
            out.append(f"\\x{_LOWERHEX[data[i] >> 4]}{_LOWERHEX[data[i] & 0xF]}")
        elif rune in (0x22, 0x5C):
            out.append("\\" + chr(rune))
        elif is_print(rune):
            out.append(chr(rune))
        elif rune in _ESCAPES:
            out.append(_ESCAPES[rune])
        elif rune < 0x20 or rune == 0x7F:
            out.append(f"\\x{rune:02x}")
        elif rune < 0x10000:
            out.append(f"\\u{rune:04x}")
        else:
            out.append(f"\\U{rune:08x}")
    out.append('"')
    return "".join(out)


def time_quote(data: bytes) -> str:
    """The time package's own `quote` (ParseDuration's errors): every byte of a non-ASCII or
    control rune as `\\x`; the three bytes of a real U+FFFD too, one byte of bad UTF-8."""
    out = ['"']
    for i, rune, _width in runes(data):
        if rune >= 0x80 or rune < 0x20:
            if rune == RUNE_ERROR:
                width = 3 if i + 2 < len(data) and data[i : i + 3] == b"\xef\xbf\xbd" else 1
            else:
                width = len(chr(rune).encode("utf-8"))
            out.extend(f"\\x{b:02x}" for b in data[i : i + width])
        else:
            out.append(("\\" if rune in (0x22, 0x5C) else "") + chr(rune))
    out.append('"')
    return "".join(out)


class GoNumError(ValueError):
    """`*strconv.NumError`, printed as Go prints it."""

    def __init__(self, func: str, num: bytes, reason: str) -> None:
        self.func, self.num, self.reason = func, num, reason
        super().__init__(f"strconv.{func}: parsing {quote(num)}: {reason}")


_SYNTAX = "invalid syntax"
_RANGE = "value out of range"


def _parse_uint10(digits: bytes) -> tuple[int, str | None]:
    """ParseUint(s, 10, 64): (value, error); a range error stops at the first overflow."""
    if not digits:
        return 0, _SYNTAX
    n = 0
    for c in digits:
        if not 0x30 <= c <= 0x39:
            return 0, _SYNTAX  # letters are digits >= base 10 there: a syntax error too
        if n >= _UINT64_CUTOFF:
            return _UINT64_MAX, _RANGE
        n = n * 10 + (c - 0x30)
        if n > _UINT64_MAX:
            return _UINT64_MAX, _RANGE
    return n, None


def atoi(data: bytes) -> int:
    """`strconv.Atoi` on a 64-bit build; GoNumError as Go reports it. (Go's fast path for
    short inputs gives the same answers: one path here.)"""
    if not data:
        raise GoNumError("Atoi", data, _SYNTAX)
    negative = data[:1] == b"-"
    body = data[1:] if data[:1] in (b"-", b"+") else data
    unsigned, err = _parse_uint10(body)
    if err == _SYNTAX:
        raise GoNumError("Atoi", data, _SYNTAX)
    # A range error leaves the maximum uint64, past either bound.
    if (not negative and unsigned > _INT64_MAX) or (negative and unsigned > _INT64_MAX + 1):
        raise GoNumError("Atoi", data, _RANGE)
    return -unsigned if negative else unsigned


def wrap_int64(value: int) -> int:
    """Go's int64 arithmetic wraps around silently (`time.Duration(i) * time.Second`)."""
    return ((value + (1 << 63)) % (1 << 64)) - (1 << 63)
