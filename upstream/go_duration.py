"""Go ``time.ParseDuration``, so a TTL is judged exactly as the operator (Go) judges it.

durationpy, the usual library, accepts units Go refuses (``d``, ``w``, ``y``) and values that
overflow Go's int64 nanoseconds; a TTL it accepts could still crash-loop the operator.
"""

from __future__ import annotations

from upstream.go_text import time_quote, to_go

# Nanoseconds per unit, as in Go's unitMap (both spellings of micro: U+00B5 and U+03BC).
_UNITS = {
    "ns": 1,
    "us": 1_000,
    "\u00b5s": 1_000,
    "\u03bcs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_LIMIT = 1 << 63  # Go's Duration is an int64 of nanoseconds.


class DurationError(ValueError):
    """A string Go's ParseDuration would refuse; `go_text` is Go's own message for it."""

    def __init__(self, orig: str, reason: str = "invalid duration", unit: str | None = None):
        self.orig, self.reason, self.unit = orig, reason, unit
        shown = reason if unit is None else f"unknown unit {unit!r} in duration"
        super().__init__(f"{shown} {orig!r}")

    @property
    def go_text(self) -> str:
        """`time.ParseDuration`'s error: `time: <reason> <quote(orig)>` (time/format.go)."""
        reason = self.reason
        if self.unit is not None:
            reason = f"unknown unit {time_quote(to_go(self.unit))} in duration"
        return f"time: {reason} {time_quote(to_go(self.orig))}"


class DurationOverflowError(DurationError):
    """Well-formed, but past Go's int64 nanoseconds (Go says only "invalid duration")."""


# Go's largest Duration, as time.Duration.String() prints it (time.go maxDuration).
MAX_DURATION = "2562047h47m16.854775807s"


def _is_digit(c: str) -> bool:
    return "0" <= c <= "9"


def _leading_int(s: str, orig: str) -> tuple[int, str]:
    """Consume leading ASCII digits; Go refuses values past 1<<63."""
    i, x = 0, 0
    while i < len(s) and _is_digit(s[i]):
        if x > _LIMIT // 10:
            raise DurationOverflowError(orig)
        x = x * 10 + int(s[i])
        if x > _LIMIT:
            raise DurationOverflowError(orig)
        i += 1
    return x, s[i:]


def _leading_fraction(s: str) -> tuple[int, float, str]:
    """Consume fraction digits; digits past int64 precision are dropped, as Go does."""
    i, x, scale, overflow = 0, 0, 1.0, False
    while i < len(s) and _is_digit(s[i]):
        if not overflow:
            if x > (_LIMIT - 1) // 10:
                overflow = True
            else:
                y = x * 10 + int(s[i])
                if y > _LIMIT:
                    overflow = True
                else:
                    x = y
                    scale *= 10
        i += 1
    return x, scale, s[i:]


def parse_go_duration(text: str) -> int:
    """Return the duration in nanoseconds, or raise DurationError like Go would."""
    orig, s, neg = text, text, False
    if s and s[0] in "+-":
        neg = s[0] == "-"
        s = s[1:]
    if s == "0":
        return 0
    if not s:
        raise DurationError(orig)
    total = 0
    while s:
        if not (s[0] == "." or _is_digit(s[0])):
            raise DurationError(orig)
        before = len(s)
        value, s = _leading_int(s, orig)
        has_int = before != len(s)
        frac, scale, has_frac = 0, 1.0, False
        if s.startswith("."):
            s = s[1:]
            before = len(s)
            frac, scale, s = _leading_fraction(s)
            has_frac = before != len(s)
        if not has_int and not has_frac:
            raise DurationError(orig)
        i = 0
        while i < len(s) and not (s[i] == "." or _is_digit(s[i])):
            i += 1
        if i == 0:
            raise DurationError(orig, "missing unit in duration")
        unit_name, s = s[:i], s[i:]
        unit = _UNITS.get(unit_name)
        if unit is None:
            raise DurationError(orig, unit=unit_name)
        if value > _LIMIT // unit:
            raise DurationOverflowError(orig)
        value *= unit
        if frac > 0:
            # Go converts through float64 here; Python floats are IEEE doubles too.
            value += int(float(frac) * (float(unit) / scale))
            if value > _LIMIT:
                raise DurationOverflowError(orig)
        total += value
        if total > _LIMIT:
            raise DurationOverflowError(orig)
    if neg:
        return -total
    if total > _LIMIT - 1:
        raise DurationOverflowError(orig)
    return total
